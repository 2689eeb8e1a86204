"""Database triggers for the invariants a CHECK constraint cannot express, on SQLite and PostgreSQL.

A trigger refuses a row whose condition holds, so a write that went past the forms and the
workflow (a bulk update, a shell, a bug) still fails. Each app declares its own triggers from its
own models (its AppConfig.ready) with the builders here; none names another app's tables.

They are dropped before every migrate and created again after it, not kept in a migration: SQLite
rebuilds a table for most column changes, which drops that table's triggers and breaks every other
table's trigger that names it (a migrate of an existing database would fail). Should a migrate fail
half-way, the next successful one puts them back.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate

OPERATIONS = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Trigger:
    """Refuse an INSERT, UPDATE or DELETE on ``model`` when ``refuse[op]`` (SQL over NEW/OLD) holds."""

    name: str
    model: object
    refuse: dict  # operation → SQL condition
    message: str

    @property
    def table(self):
        return self.model._meta.db_table


def distinct(a, b, vendor):
    """Null-safe "differs" in each dialect."""
    return f"{a} IS NOT {b}" if vendor == "sqlite" else f"{a} IS DISTINCT FROM {b}"


def year_in_plan(name, model, parent, *year_fields):
    """Each year column of ``model`` lies inside the plan of its ``parent`` (a measure or a policy)."""
    field = model._meta.get_field(parent)
    parent_table = field.related_model._meta.db_table
    plan_table = field.related_model._meta.get_field("plan").related_model._meta.db_table
    inside = " AND ".join(f"NEW.{c} BETWEEN p.start_year AND p.end_year" for c in year_fields)
    condition = (
        f"NOT EXISTS (SELECT 1 FROM {parent_table} x JOIN {plan_table} p ON p.id = x.plan_id "
        f"WHERE x.id = NEW.{field.column} AND {inside})"
    )
    return Trigger(name, model, {"INSERT": condition, "UPDATE": condition}, "fiscal year outside the plan period")


def _sqlite(trigger):
    for op in OPERATIONS:
        name = f"{trigger.name}_{op.lower()}"
        yield f"DROP TRIGGER IF EXISTS {name}"
        if op in trigger.refuse:
            yield (
                f"CREATE TRIGGER {name} BEFORE {op} ON {trigger.table} FOR EACH ROW "
                f"WHEN {trigger.refuse[op]} BEGIN SELECT RAISE(ABORT, '{trigger.message}'); END"
            )


def _postgresql(trigger):
    checks = "\n".join(
        f"IF TG_OP = '{op}' THEN IF {condition} THEN "
        f"RAISE EXCEPTION '{trigger.message}' USING ERRCODE = 'check_violation'; END IF; END IF;"
        for op, condition in trigger.refuse.items()
    )
    yield f"""CREATE OR REPLACE FUNCTION {trigger.name}_fn() RETURNS trigger AS $$
        BEGIN
          {checks}
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql"""
    yield f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}"
    yield (
        f"CREATE TRIGGER {trigger.name} BEFORE {' OR '.join(trigger.refuse)} ON {trigger.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {trigger.name}_fn()"
    )


def ensure_triggers(triggers, using="default"):
    """Create or replace the triggers on tables that exist; safe to run again."""
    connection = connections[using]
    build = {"sqlite": _sqlite, "postgresql": _postgresql}.get(connection.vendor)
    if build is None:
        return  # other databases rely on model validation and the workflow only
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for trigger in triggers(connection.vendor):
            if trigger.table in tables:
                for sql in build(trigger):
                    cursor.execute(sql)


def drop_triggers(triggers, using="default"):
    """Drop the triggers on tables that exist; safe to run again."""
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for trigger in triggers(connection.vendor):
            if trigger.table not in tables:
                continue
            if connection.vendor == "sqlite":
                for op in OPERATIONS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name}_{op.lower()}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}")


def install_after_migrate(app_config, triggers):
    """Have ``triggers(vendor)`` (a list of Trigger) dropped before every migrate and recreated after it."""

    def before(using="default", **kwargs):
        drop_triggers(triggers, using)

    def after(using="default", **kwargs):
        ensure_triggers(triggers, using)

    uid = f"{app_config.label}-triggers"
    pre_migrate.connect(before, sender=app_config, weak=False, dispatch_uid=uid)
    post_migrate.connect(after, sender=app_config, weak=False, dispatch_uid=uid)
