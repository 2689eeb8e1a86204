"""Database triggers for the one invariant a CHECK constraint cannot express.

"A fiscal year lies inside its plan's period" spans two tables (the row and
its plan), so model validation (Plan.check_fiscal_year) is backed here by a
trigger on SQLite and PostgreSQL: a row written past the forms still fails.

They are (re)created after every migrate (InitiativesConfig.ready), not in a
migration: SQLite rebuilds a table for most column changes, which silently
drops its triggers.
"""

from django.db import connections

MESSAGE = "fiscal year outside the plan period"


def _condition(parent, fk, columns):
    years = " AND ".join(f"NEW.{c} BETWEEN p.start_year AND p.end_year" for c in columns)
    return (
        f"EXISTS (SELECT 1 FROM {parent} x JOIN initiatives_plan p ON p.id = x.plan_id "
        f"WHERE x.id = NEW.{fk} AND {years})"
    )


def _sqlite(name, table, condition):
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name}_{op.lower()} BEFORE {op} ON {table} FOR EACH ROW "
        f"WHEN NOT {condition} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for op in ("INSERT", "UPDATE")
    ]


def _postgresql(name, table, condition):
    return [
        f"""CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger AS $$
        BEGIN
          IF NOT {condition} THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()",
    ]


# (trigger name, table, foreign key column, parent table holding plan_id, year columns)
YEAR_IN_PLAN = [
    (
        "schedule_bar_year_in_plan",
        "initiatives_schedulebar",
        "measure_id",
        "initiatives_measure",
        ["start_year", "end_year"],
    ),
    ("kpi_target_year_in_plan", "kpi_kpitarget", "measure_id", "initiatives_measure", ["fiscal_year"]),
    ("measure_year_year_in_plan", "kpi_measureyear", "measure_id", "initiatives_measure", ["fiscal_year"]),
    ("planned_cost_year_in_plan", "budget_plannedcost", "measure_id", "initiatives_measure", ["fiscal_year"]),
    ("general_fund_year_in_plan", "budget_generalfundplan", "policy_id", "initiatives_policy", ["fiscal_year"]),
]


def ensure_year_triggers(using="default", **kwargs):
    """Create any missing trigger (post_migrate receiver; safe to run again)."""
    connection = connections[using]
    build = {"sqlite": _sqlite, "postgresql": _postgresql}.get(connection.vendor)
    if build is None:
        return  # other databases rely on model validation only
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for name, table, fk, parent, columns in YEAR_IN_PLAN:
            if table in tables:
                for sql in build(name, table, _condition(parent, fk, columns)):
                    cursor.execute(sql)
