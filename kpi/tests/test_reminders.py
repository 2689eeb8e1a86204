"""入力のお知らせ (kpi.reminders, manage.py send_reminders): the right users are told of the right measures,
at most once a day; the dashboard shows the days left."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from conftest import make_user
from initiatives.models import Measure
from initiatives.roles import Role
from kpi import reminders
from kpi.models import EntryDeadline, MeasureYear, ReminderSent

pytestmark = pytest.mark.django_db

YEAR = 2025
DUE = datetime.date(2026, 5, 29)
BEFORE, ON_THE_DAY, AFTER = DUE - datetime.timedelta(days=5), DUE, DUE + datetime.timedelta(days=3)


@pytest.fixture
def setting(plan, department, other_department):
    """The deadline; four of the test department's measures (not entered, returned, entered but not submitted,
    submitted) and one of the other department's (approved); a user for each department, the DX推進部門 and a
    viewer, all with an address."""
    EntryDeadline.objects.create(plan=plan, fiscal_year=YEAR, due_on=DUE)
    measures = list(Measure.objects.filter(plan=plan).order_by("pk")[:5])
    for m in measures[:4]:
        m.department = department
        m.save()
    measures[4].department = other_department
    measures[4].save()
    _, returned, entered, submitted, approved = measures
    MeasureYear.objects.create(measure=returned, fiscal_year=YEAR, kpi_actual=1, status="returned", return_comment="再")
    MeasureYear.objects.create(measure=entered, fiscal_year=YEAR, work_done="実施中")
    MeasureYear.objects.create(measure=submitted, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    MeasureYear.objects.create(measure=approved, fiscal_year=YEAR, kpi_actual=1, status="approved")
    users = {
        "tantou": make_user("tantou", Role.DEPARTMENT, department),
        "other": make_user("other", Role.DEPARTMENT, other_department),
        "dx": make_user("dx_other", Role.DX_OFFICE, department),
        "viewer": make_user("viewer2", Role.VIEWER, department),
    }
    for user in users.values():
        user.email = f"{user.username}@example.jp"
        user.save()
    return measures, users


def listed(message):
    """The measure codes and states a reminder lists."""
    return [line[1:].split("：") for line in message.body.splitlines() if line.startswith("・")]


def test_each_department_user_is_told_of_their_measures_left_to_do(setting):
    measures, users = setting
    call_command("send_reminders", date=BEFORE.isoformat())
    assert [m.to for m in mail.outbox] == [["tantou@example.jp"]]  # not the other department (all done), nor dx/viewer
    (message,) = mail.outbox
    not_entered, returned, entered, *_ = measures
    assert listed(message) == [
        [f"{not_entered.code} {not_entered.name}", "未入力"],
        [f"{returned.code} {returned.name}", "差戻し"],
        [f"{entered.code} {entered.name}", "未提出"],
    ]  # submitted: done
    assert "あと5日" in message.body and "2026年5月29日" in message.body
    edit = reverse("kpi:measure_year_edit", args=[not_entered.plan.code, not_entered.code, YEAR])
    assert f"http://127.0.0.1:8000{edit}" in message.body
    assert message.subject == "【計画進捗ポータル】実績の入力のお願い（R7（2025）年度、3件）"


def test_a_user_of_two_departments_gets_one_mail_with_both_and_an_inactive_user_none(setting, other_department):
    measures, users = setting
    both = make_user("both", Role.DEPARTMENT, other_department)
    both.departments.add(users["tantou"].departments.get())
    both.email = "both@example.jp"
    both.save()
    users["tantou"].is_active = False
    users["tantou"].save()
    MeasureYear.objects.filter(measure=measures[4], fiscal_year=YEAR).update(status="returned")  # the other's
    call_command("send_reminders", date=BEFORE.isoformat())
    assert [m.to for m in mail.outbox] == [["both@example.jp"], ["other@example.jp"]]  # not the inactive tantou
    assert len(listed(mail.outbox[0])) == 4 and len(listed(mail.outbox[1])) == 1  # both departments' / one


def test_after_the_deadline_the_mail_says_how_late_until_remind_after_days(setting):
    call_command("send_reminders", date=AFTER.isoformat())
    (message,) = mail.outbox
    assert len(listed(message)) == 3 and "期限を3日過ぎています" in message.body
    call_command("send_reminders", date=(DUE + datetime.timedelta(days=31)).isoformat())  # remind_after is 30
    assert len(mail.outbox) == 1


def test_at_most_once_a_day(setting):
    call_command("send_reminders", date=ON_THE_DAY.isoformat())
    call_command("send_reminders", date=ON_THE_DAY.isoformat())
    assert len(mail.outbox) == 1 and "本日が期限" in mail.outbox[0].body
    call_command("send_reminders", date=(ON_THE_DAY + datetime.timedelta(days=1)).isoformat())
    assert len(mail.outbox) == 2
    assert list(ReminderSent.objects.values_list("sent_on", "measures").order_by("sent_on")) == [
        (ON_THE_DAY, 3),
        (ON_THE_DAY + datetime.timedelta(days=1), 3),
    ]


def test_nothing_before_the_reminding_starts_nor_once_everything_is_submitted(setting):
    measures, _ = setting
    call_command("send_reminders", date=(DUE - datetime.timedelta(days=15)).isoformat())  # remind_from is 14
    assert mail.outbox == []
    MeasureYear.objects.filter(measure__in=measures).update(status="submitted")
    MeasureYear.objects.create(measure=measures[0], fiscal_year=YEAR, kpi_actual=2, status="submitted")
    call_command("send_reminders", date=AFTER.isoformat())
    assert mail.outbox == []


def test_a_failed_mail_does_not_stop_the_others_and_is_tried_again(setting, monkeypatch):
    measures, users = setting
    MeasureYear.objects.filter(measure=measures[4], fiscal_year=YEAR).update(status="returned")  # "other" has one
    real = reminders.send_mail

    def refuse_tantou(subject, body, sender, to):
        if to == ["tantou@example.jp"]:
            raise ConnectionRefusedError("550 mailbox unavailable")
        return real(subject, body, sender, to)

    monkeypatch.setattr(reminders, "send_mail", refuse_tantou)
    with pytest.raises(CommandError, match="tantou"):
        call_command("send_reminders", date=BEFORE.isoformat())
    assert [m.to for m in mail.outbox] == [["other@example.jp"]]  # after tantou in name order, still sent
    assert list(ReminderSent.objects.values_list("user__username", flat=True)) == ["other"]
    monkeypatch.setattr(reminders, "send_mail", real)
    call_command("send_reminders", date=BEFORE.isoformat())
    assert [m.to for m in mail.outbox] == [["other@example.jp"], ["tantou@example.jp"]]


def test_a_dry_run_prints_the_mails_and_sends_and_marks_nothing(setting, capsys):
    call_command("send_reminders", "--dry-run", date=BEFORE.isoformat())
    printed = capsys.readouterr().out
    assert "tantou@example.jp" in printed and "未入力" in printed and "送っていません" in printed
    assert mail.outbox == [] and not ReminderSent.objects.exists()


def test_a_user_without_an_address_is_named(setting, capsys):
    _, users = setting
    users["tantou"].email = ""
    users["tantou"].save()
    call_command("send_reminders", date=BEFORE.isoformat())
    assert mail.outbox == [] and "tantou" in capsys.readouterr().err


def test_a_date_that_is_not_one_is_refused_in_japanese(setting):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", date="2026/05/29")


@pytest.mark.parametrize(
    "today, shown", [(BEFORE, "あと5日"), (ON_THE_DAY, "本日が期限"), (AFTER, "期限を3日過ぎています")]
)
def test_the_dashboard_shows_the_days_left(client, viewer, setting, plan, today, shown, monkeypatch):
    monkeypatch.setattr("kpi.views.timezone.localdate", lambda: today)
    client.force_login(viewer)
    html = client.get(reverse("home"), {"plan": plan.code, "year": YEAR}).content.decode()
    line = html.split('id="deadline">', 1)[1].split("</p>", 1)[0]
    assert "入力期限：2026年5月29日" in line and shown in line
    other_year = client.get(reverse("home"), {"plan": plan.code, "year": YEAR - 1}).content.decode()
    assert 'id="deadline"' not in other_year


def test_the_dashboard_says_when_everything_is_submitted(client, viewer, setting, plan, monkeypatch):
    monkeypatch.setattr("kpi.views.timezone.localdate", lambda: AFTER)
    for measure in Measure.objects.filter(plan=plan):
        MeasureYear.objects.update_or_create(measure=measure, fiscal_year=YEAR, defaults={"status": "submitted"})
    client.force_login(viewer)
    html = client.get(reverse("home"), {"plan": plan.code, "year": YEAR}).content.decode()
    assert '<p class="deadline" id="deadline">入力期限：2026年5月29日（すべて提出済み）</p>' in html


def test_the_dx_office_sets_a_deadline_in_the_admin_and_a_year_outside_the_plan_is_refused(client, dx_user, plan):
    client.force_login(dx_user)
    url = reverse("admin:kpi_entrydeadline_add")
    data = {"plan": plan.pk, "fiscal_year": "2030", "due_on": "2026-05-29", "remind_from": "14", "remind_after": "30"}
    response = client.post(url, data)
    assert response.status_code == 200 and "計画期間の年度を入力してください" in response.content.decode()
    assert client.post(url, {**data, "fiscal_year": str(YEAR)}).status_code == 302
    assert EntryDeadline.objects.get(plan=plan, fiscal_year=YEAR).due_on == DUE


def test_the_reminders_sent_are_listed_in_the_admin_and_not_written_there(client, dx_user, setting):
    call_command("send_reminders", date=BEFORE.isoformat())
    client.force_login(dx_user)
    assert "tantou" in client.get(reverse("admin:kpi_remindersent_changelist")).content.decode()
    assert client.get(reverse("admin:kpi_remindersent_add")).status_code == 403
    sent = ReminderSent.objects.get()
    assert client.post(reverse("admin:kpi_remindersent_delete", args=[sent.pk]), {"post": "yes"}).status_code == 403
    assert ReminderSent.objects.filter(pk=sent.pk).exists()
