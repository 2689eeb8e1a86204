"""公表 (kpi.publishing): anonymous visitors see a published year's approved results only, its open data
follows the documented schema, and only the DX推進部門 publishes."""

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import jsonschema
import pytest
from django.urls import reverse

from initiatives.fields import FORMULA_STARTS
from initiatives.models import Measure
from kpi import workflow
from kpi.models import KpiTarget, MeasureYear, Publication
from kpi.publishing import SCHEMA_PATH

pytestmark = pytest.mark.django_db

YEAR, HIDDEN_YEAR = 2024, 2025
SECRET = "非公開の改善内容"


def numeric_targets(plan, year):
    """Measures with a numeric target in the year, higher-is-better, in a stable order."""
    return list(
        Measure.objects.filter(
            plan=plan, kpi_targets__fiscal_year=year, kpi_targets__value__gt=0, kgi__direction="higher"
        ).order_by("code")
    )


@pytest.fixture
def results(plan, dx_user):
    """In YEAR: one measure approved on its target (100%: A), one approved at 0 (D) whose 改善方針 is not to be
    published, one submitted (not approved) with an actual and a 改善方針. In HIDDEN_YEAR: one approved, never
    published. The approver has a name that must never appear."""
    dx_user.first_name, dx_user.last_name, dx_user.username = "承認", "花子", "shoninsha-hanako"
    dx_user.save()
    on_target, at_zero, submitted = numeric_targets(plan, YEAR)[:3]
    target = KpiTarget.objects.get(measure=on_target, fiscal_year=YEAR).value
    common = {"fiscal_year": YEAR, "approved_by": dx_user}
    MeasureYear.objects.create(
        measure=on_target, kpi_actual=target, status="approved", improvement="continue",
        improvement_text="窓口を増やして続けます", **common,
    )  # fmt: skip
    MeasureYear.objects.create(
        measure=at_zero, kpi_actual=0, status="approved", improvement="revise", improvement_text=SECRET, **common
    )
    MeasureYear.objects.create(
        measure=submitted, fiscal_year=YEAR, kpi_actual=987654, status="submitted", improvement="expand",
        improvement_text="承認前の改善方針",
    )  # fmt: skip
    hidden = numeric_targets(plan, HIDDEN_YEAR)[0]
    MeasureYear.objects.create(measure=hidden, fiscal_year=HIDDEN_YEAR, kpi_actual=123456, status="approved")
    return {"on_target": on_target, "at_zero": at_zero, "submitted": submitted, "target": target}


def publish(client, plan, year, improvements=(), seen=0, **extra):
    data = {
        "seen_version": seen,
        "licence": "CC BY 4.0",
        "licence_url": "https://creativecommons.org/licenses/by/4.0/deed.ja",
        "improvements": [m.pk for m in improvements],
        **extra,
    }
    return client.post(reverse("kpi:publish", args=[plan.code, year]), data)


@pytest.fixture
def published(client, dx_user, plan, results):
    client.force_login(dx_user)
    response = publish(client, plan, YEAR, [results["on_target"]])
    assert response.status_code == 302
    client.logout()
    return results


def public_url(plan, year, name="kpi:public_year"):
    return reverse(name, args=[plan.code, year])


def test_anonymous_visitors_see_the_published_years_approved_results_only(client, plan, published, dx_user):
    response = client.get(public_url(plan, YEAR))
    assert response.status_code == 200
    html = response.content.decode()
    on_target, submitted = published["on_target"], published["submitted"]
    row = html.split(f'data-code="{on_target.code}"')[1].split("</tr>")[0]
    assert '<span class="grade-badge grade-A grade-colour-green">A</span>' in row
    assert "100.0%" in row
    assert "窓口を増やして続けます" in row
    submitted_row = html.split(f'data-code="{submitted.code}"')[1].split("</tr>")[0]
    assert "未公表" in submitted_row
    for hidden in ("987,654", "987654", "承認前の改善方針", SECRET, "花子", dx_user.username):
        assert hidden not in html, hidden
    assert "CC BY 4.0" in html
    # every measure of the plan is on the page, under its policy and initiative
    assert html.count("data-code=") == Measure.objects.filter(plan=plan).count()


def test_a_year_not_published_stays_hidden(client, plan, published):
    for name in ("kpi:public_year", "kpi:public_csv", "kpi:public_json"):
        assert client.get(public_url(plan, HIDDEN_YEAR, name)).status_code == 404, name
    index = client.get(reverse("kpi:public_index")).content.decode()
    assert public_url(plan, YEAR) in index
    assert public_url(plan, HIDDEN_YEAR) not in index


def test_the_grade_counts_and_shares_cover_every_measure(client, plan, published):
    data = json.loads(client.get(public_url(plan, YEAR, "kpi:public_json")).content)
    counts = {row["grade"]: (row["count"], row["share"]) for row in data["grade_counts"]}
    total = Measure.objects.filter(plan=plan).count()

    def share(n):
        return float((Decimal(n) * 100 / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    assert counts["A"] == (1, share(1))  # on its target
    assert counts["D"] == (1, share(1))  # 0 against a positive target
    assert counts["未公表"] == (total - 2, share(total - 2))
    assert sum(n for n, _ in counts.values()) == total
    html = client.get(public_url(plan, YEAR)).content.decode()
    table = html.split('id="grade-count-table"')[1].split("</table>")[0]
    assert f'<td class="num">{total - 2}</td><td class="num">{share(total - 2)}%</td>' in table


def test_the_json_and_the_csv_follow_the_documented_schema(client, plan, published):
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    served = client.get(reverse("kpi:open_data_schema"))
    assert served.status_code == 200 and served.json() == schema

    response = client.get(public_url(plan, YEAR, "kpi:public_json"))
    assert response["Content-Type"] == "application/json"
    assert 'rel="license"' in response["Link"]
    document = json.loads(response.content)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(document)
    assert document["license"]["name"] == "CC BY 4.0"

    response = client.get(public_url(plan, YEAR, "kpi:public_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    record = schema["$defs"]["record"]
    fields = list(record["properties"].items())
    assert rows[0] == [spec["title"] for _, spec in fields]  # the Ohnojo plan's level names are the titles
    record_validator = jsonschema.Draft202012Validator(record)
    typed = [
        dict(typed_cell(name, spec, cell) for (name, spec), cell in zip(fields, row, strict=True)) for row in rows[1:]
    ]
    for row in typed:
        record_validator.validate(row)
    assert typed == document["records"]  # the same records in both


def typed_cell(name, spec, cell):
    """A CSV cell read by the schema's type: empty is null where null is allowed."""
    types = spec.get("type", "string")
    types = types if isinstance(types, list) else [types]
    if cell == "" and "null" in types:
        return name, None
    if "integer" in types:
        return name, int(cell)
    if "number" in types:
        number = Decimal(cell)
        return name, int(number) if number == number.to_integral_value() else float(number)
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return name, cell[1:]  # as the schema's description says
    return name, cell


def test_a_formula_in_the_csv_is_kept_from_running(client, plan, published, dx_user):
    record = MeasureYear.objects.get(measure=published["on_target"], fiscal_year=YEAR)
    workflow.reopen(record, dx_user, record.version, "訂正のため")
    record.refresh_from_db()
    record.improvement_text = '＝HYPERLINK("http://example.com","x")'  # full-width: Japanese Excel runs it too
    workflow.save_record(record, dx_user, record.version, submit=True)
    workflow.approve(record, dx_user, record.version)
    rows = list(
        csv.reader(io.StringIO(client.get(public_url(plan, YEAR, "kpi:public_csv")).content.decode("utf-8-sig")))
    )
    column = rows[0].index("改善方針の内容")
    (cell,) = [row[column] for row in rows[1:] if "HYPERLINK" in row[column]]
    assert cell == '\'＝HYPERLINK("http://example.com","x")'
    unit = rows[0].index("単位")
    assert "%" in {row[unit] for row in rows[1:]}  # a unit "%" stays as it is
    assert json.loads(client.get(public_url(plan, YEAR, "kpi:public_json")).content)["records"]


def test_reopening_a_published_record_hides_it_again(client, plan, published, dx_user):
    record = MeasureYear.objects.get(measure=published["on_target"], fiscal_year=YEAR)
    workflow.reopen(record, dx_user, record.version, "訂正のため")
    data = json.loads(client.get(public_url(plan, YEAR, "kpi:public_json")).content)
    (row,) = [r for r in data["records"] if r["measure_code"] == published["on_target"].code]
    assert row["result"] == "未公表"
    assert row["actual_value"] is None and row["grade"] == "" and row["improvement_text"] == ""


def test_only_the_dx_office_publishes(client, plan, results, staff_user, viewer):
    for user in (staff_user, viewer):
        client.force_login(user)
        assert client.get(reverse("kpi:publish", args=[plan.code, YEAR])).status_code == 403
        assert publish(client, plan, YEAR).status_code == 403
    client.logout()
    assert publish(client, plan, YEAR).status_code == 302  # to the login page
    assert not Publication.objects.exists()


def test_an_unapproved_improvement_cannot_be_chosen(client, plan, results, dx_user):
    client.force_login(dx_user)
    response = publish(client, plan, YEAR, [results["on_target"], results["submitted"]])
    assert response.status_code == 200
    assert "正しく選択してください" in response.content.decode() or "選択肢" in response.content.decode()
    assert not Publication.objects.exists()


def test_a_stale_page_does_not_overwrite_a_publication(client, plan, published, dx_user):
    client.force_login(dx_user)
    response = publish(client, plan, YEAR, [], seen=0, licence="別のライセンス")
    assert response.status_code == 200
    assert "他の人が変更しています" in response.content.decode()
    publication = Publication.objects.get()
    assert publication.licence == "CC BY 4.0"
    assert list(publication.public_improvements.all()) == [published["on_target"]]
    response = publish(client, plan, YEAR, [], seen=publication.version, withdraw="1")
    assert response.status_code == 302
    assert client.get(public_url(plan, YEAR)).status_code == 404
    assert public_url(plan, YEAR) not in client.get(reverse("kpi:public_index")).content.decode()
    # published again, a page opened before the withdrawal is still stale: the version goes on
    withdrawn = Publication.objects.get()
    assert publish(client, plan, YEAR, [], seen=withdrawn.version, licence="CC0").status_code == 302
    response = publish(client, plan, YEAR, [], seen=publication.version, licence="古い画面")
    assert "他の人が変更しています" in response.content.decode()
    assert Publication.objects.get().licence == "CC0"
    reasons = list(Publication.history.order_by("history_id").values_list("history_change_reason", "history_user"))
    assert reasons == [("公表", dx_user.pk), ("公表の取り下げ", dx_user.pk), ("公表", dx_user.pk)]
