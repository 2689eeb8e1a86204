"""Database triggers for the one invariant a CHECK constraint cannot express.

"A fiscal year lies inside its plan's period" spans two tables (the row and
its plan), so model validation (Plan.check_fiscal_year) is backed here by a
trigger on SQLite and PostgreSQL: a row written past the forms still fails.
"""

from django.db import migrations

MESSAGE = "fiscal year outside the plan period"


def _condition(parent, fk, columns):
    years = " AND ".join(f"NEW.{c} BETWEEN p.start_year AND p.end_year" for c in columns)
    return (
        f"EXISTS (SELECT 1 FROM {parent} x JOIN initiatives_plan p ON p.id = x.plan_id "
        f"WHERE x.id = NEW.{fk} AND {years})"
    )


def _sqlite(name, table, condition):
    return [
        f"CREATE TRIGGER {name}_{op.lower()} BEFORE {op} ON {table} FOR EACH ROW "
        f"WHEN NOT {condition} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for op in ("INSERT", "UPDATE")
    ], [f"DROP TRIGGER IF EXISTS {name}_{op}" for op in ("insert", "update")]


def _postgresql(name, table, condition):
    create = [
        f"""CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger AS $$
        BEGIN
          IF NOT {condition} THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()",
    ]
    drop = [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}_fn()"]
    return create, drop


def year_in_plan_trigger(name, table, fk, parent, columns):
    """A migration operation adding the trigger on `table` (via `fk` → `parent`.plan_id)."""
    condition = _condition(parent, fk, columns)
    builders = {"sqlite": _sqlite, "postgresql": _postgresql}

    def run(schema_editor, which):
        build = builders.get(schema_editor.connection.vendor)
        if build is None:
            return  # other databases rely on model validation only
        for sql in build(name, table, condition)[which]:
            schema_editor.execute(sql)

    return migrations.RunPython(
        lambda apps, schema_editor: run(schema_editor, 0),
        lambda apps, schema_editor: run(schema_editor, 1),
    )
