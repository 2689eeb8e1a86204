"""The synthetic plan the benchmarks measure: MEASURES measures (BENCH_MEASURES, default 5,000) × 10 fiscal years,
with targets, planned costs, actuals in every state and delayed schedule bars. Call build() once Django is set up
(bench/portal_setup.py start_django): it migrates the benchmark's own database first."""

import os

MEASURES = int(os.environ.get("BENCH_MEASURES", "5000"))
YEARS = 10


def build():
    """Build the plan in the benchmark's database: (plan, a signed-in viewer, the last fiscal year)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from budget.models import GeneralFundPlan, PlannedCost
    from initiatives.models import Department, Initiative, Measure, Plan, Policy, ScheduleBar
    from initiatives.roles import Role, role_group, setup_roles
    from kpi.models import BarStatus, Kgi, KpiTarget, MeasureYear

    call_command("migrate", verbosity=0)
    setup_roles()
    start = 2022
    plan = Plan.objects.create(
        code="bench",
        title="合成計画",
        municipality="ベンチ市",
        vision="速さ",
        start_year=start,
        end_year=start + YEARS - 1,
    )
    policies = [
        Policy.objects.create(plan=plan, number=n, numeral="Ⅰ" if n == 1 else "Ⅱ", title=f"方針{n}") for n in (1, 2)
    ]
    initiatives = [
        Initiative.objects.create(policy=policies[n % 2], number=n + 1, title=f"取組{n + 1}") for n in range(20)
    ]
    departments = [Department.objects.create(code=f"d{n}", name=f"課{n}", is_sample=True) for n in range(25)]
    measures = Measure.objects.bulk_create(
        Measure(
            plan=plan,
            initiative=initiatives[i % 20],
            code=f"M-{i}",
            ordinal=i // 20 + 1,
            name=f"施策{i}",
            department=departments[i % 25],
        )
        for i in range(MEASURES)
    )
    Kgi.objects.bulk_create(
        Kgi(
            measure=m,
            text="件数",
            indicator="件数",
            target=100,
            unit="件",
            direction="lower" if i % 7 == 0 else "higher",
        )
        for i, m in enumerate(measures)
    )
    years = list(range(start, start + YEARS))
    bars = ScheduleBar.objects.bulk_create(
        ScheduleBar(measure=m, label="運用", start_year=start, end_year=start + YEARS - 1) for m in measures
    )
    KpiTarget.objects.bulk_create(
        KpiTarget(measure=m, fiscal_year=y, value=10 + (i % 90)) for i, m in enumerate(measures) for y in years
    )
    PlannedCost.objects.bulk_create(
        PlannedCost(measure=m, fiscal_year=y, amount=1000 + i % 500) for i, m in enumerate(measures) for y in years
    )
    GeneralFundPlan.objects.bulk_create(
        GeneralFundPlan(policy=p, fiscal_year=y, amount=100000) for p in policies for y in years
    )
    statuses = ["approved", "submitted", "returned", "draft"]
    records = MeasureYear.objects.bulk_create(
        MeasureYear(
            measure=m,
            fiscal_year=y,
            kpi_actual=(i * 7 + y) % 120,
            actual_cost=900 + i % 400,
            work_done="実施",
            evaluation_comment="評価" if i % 3 else "",
            improvement="continue" if i % 4 else "",
            # approved (locked) years are approved after their bar statuses are written: a locked year refuses them
            status=statuses[(i + y) % 4].replace("approved", "submitted"),
        )
        for i, m in enumerate(measures)
        for y in years
        if (i + y) % 11
    )
    BarStatus.objects.bulk_create(
        BarStatus(measure_year=r, bar=bars[i % len(bars)], state="delayed")
        for i, r in enumerate(records)
        if i % 13 == 0 and bars[i % len(bars)].measure_id == r.measure_id
    )
    index = {m.pk: i for i, m in enumerate(measures)}
    approved = [r.pk for r in records if statuses[(index[r.measure_id] + r.fiscal_year) % 4] == "approved"]
    for start_at in range(0, len(approved), 5000):
        MeasureYear.objects.filter(pk__in=approved[start_at : start_at + 5000]).update(status="approved")
    user = User.objects.create_user("bench")
    user.groups.add(role_group(Role.VIEWER))
    return plan, user, years[-1]
