"""schemathesis 4 against the API's own OpenAPI schema, served by the WSGI app in this process.

The schema is loaded from /api/schema/ with a DX推進部門 user's token. Every operation then gets the schema's
own examples and generated requests, valid ones and invalid ones, twice: with path codes generated at random
(unknown plans and measures, odd years) and with the real plan's codes (so that answers carry real data).
Each response must not be a server error, and its status code, content type and body must be as the schema
says for that status code. No check is switched off.
"""

from collections import defaultdict

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks
from schemathesis.generation import GenerationMode

from initiatives.models import Measure
from kpi.models import MeasureYear
from ohnojo_dx.tests.api_helpers import approved
from ohnojo_dx.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# Per operation, mode and kind of path: about 1,000 requests in all, some 15 s on SQLite and 20 s on PostgreSQL.
EXAMPLES = 15
YEAR = 2025


@pytest.fixture
def app():
    """The WSGI app, serving inside the test's transaction. Django closes a connection found inside a
    transaction at each request's start and end, which would close the test's own (PostgreSQL): its test
    client switches that off during a request, and so does this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def run(strategy, examples, call, *args):
    """Run ``call(case, *args)`` on ``examples`` cases drawn from ``strategy``."""

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,  # nothing kept between runs (a failure prints the seed that repeats it)
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def each(case):
        call(case, *args)

    each()


def records_of_every_kind(plan):
    """Answers with every shape a record takes: rated, judged, approved, returned, with a "－" cost."""
    code = {m.code: m for m in Measure.objects.filter(plan=plan)}
    MeasureYear.objects.create(measure=code["I-3-3"], fiscal_year=2024, kpi_actual=62, status="submitted")
    MeasureYear.objects.create(
        measure=code["I-6-1"], fiscal_year=2024, kpi_actual_text="全窓口", judged_grade="A", evaluation_comment="済"
    )
    MeasureYear.objects.create(measure=code["II-1-1"], fiscal_year=2023, status="returned", return_comment="確認")
    approved(code["I-1-2"], 2022, kpi_actual=10, actual_cost=0, actual_general_fund=0, improvement="expand")


def test_every_operation_answers_as_its_schema_says(app, plan, dx_user, department):
    measure = Measure.objects.get(plan=plan, code="I-3-3")
    Measure.objects.filter(plan=plan).update(department=department)
    records_of_every_kind(plan)
    headers = {"Authorization": f"Token {Token.objects.create(user=dx_user).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app, headers=headers)
    real = {"plan_code": plan.code, "measure_code": measure.code, "year": YEAR}
    answered = defaultdict(set)  # (operation, real paths?) → status codes

    operations = [result.ok() for result in schema.get_all_operations()]

    def call(case, real_paths):
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        answered[case.operation.label, real_paths].add(response.status_code)

    for operation in operations:
        fixed = {name: real[name] for name in (p.name for p in operation.path_parameters)}
        for strategy in operation.get_strategies_from_examples(path_parameters=fixed):
            run(strategy, 1, call, True)
        for mode in GenerationMode:
            run(operation.as_strategy(generation_mode=mode), EXAMPLES, call, False)
            if mode == GenerationMode.NEGATIVE and not (list(operation.query) or list(operation.body)):
                continue  # only its path to get wrong, and that path is fixed here
            run(operation.as_strategy(generation_mode=mode, path_parameters=fixed), EXAMPLES, call, True)

    labels = {operation.label for operation in operations}
    assert len(labels) == 17
    # The run reached real answers, not only refusals: every read answered 200 on the plan, and so did a write.
    reads = {label for label in labels if label.startswith("GET ")}
    assert {label for label in reads if 200 in answered[label, True]} == reads
    writes = labels - reads
    assert any(200 in answered[label, True] for label in writes), dict(answered)
    # Unknown codes are 404 everywhere (the plan list has none in its path).
    assert {label for label in labels if 404 in answered[label, False]} >= labels - {"GET /api/plans/"}
