"""Small helpers for the API's tests: URLs by code, token headers, JSON requests."""

import json

import pytest
from rest_framework.authtoken.models import Token

from kpi.models import BarStatus, MeasureYear

YEAR = 2025  # the plan's last year (R7)


@pytest.fixture
def fast_passwords(settings):
    """These tests make several users each and never check a password: hash them quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def plan_url(plan, *parts):
    return "/api/plans/" + "".join(f"{part}/" for part in (plan.code, *parts))


def year_url(measure, year=YEAR, step=""):
    url = plan_url(measure.plan, "measures", measure.code, "years", year)
    return f"{url}{step}/" if step else url


def token_for(user):
    """What a script sends: the header of a token issued for the user."""
    token, _ = Token.objects.get_or_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def send(client, method, url, body=None, **headers):
    """A JSON request, as a script sends it."""
    if method == "GET":
        return client.get(url, **headers)
    data = None if body is None else json.dumps(body, ensure_ascii=False)
    return getattr(client, method.lower())(url, data=data, content_type="application/json", **headers)


def snapshot(measure):
    """Every PDCA record of the measure and its schedule progress, field by field."""
    return (
        list(MeasureYear.objects.filter(measure=measure).order_by("fiscal_year").values()),
        list(BarStatus.objects.filter(measure_year__measure=measure).order_by("pk").values()),
    )


def approved(measure, year=YEAR, **fields):
    """An approved (locked) record, made as the workflow leaves one: created open, then approved."""
    record = MeasureYear.objects.create(measure=measure, fiscal_year=year, status="submitted", **fields)
    MeasureYear.objects.filter(pk=record.pk).update(status=MeasureYear.Status.APPROVED)
    record.refresh_from_db()
    return record
