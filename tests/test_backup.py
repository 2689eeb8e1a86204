"""manage.py backup, then manage.py restore into a new database: every row of every table comes back."""

import sqlite3
import time
import uuid
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.db.utils import load_backend

from conftest import make_user
from initiatives.models import Measure
from initiatives.roles import Role
from kpi import workflow
from kpi.models import MeasureYear
from ohnojo_dx.settings import database_settings

YEAR = 2025


@contextmanager
def fresh_database(tmp_path):
    """A new, empty database on the same server as the test database, as the alias "restored"."""
    default = connections["default"]
    if default.vendor == "sqlite":
        settings_dict = database_settings(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    else:
        name = f"restored_{uuid.uuid4().hex[:12]}"
        with default.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict = {**default.settings_dict, "NAME": name}
    settings_dict = connections.configure_settings({"default": {}, "restored": settings_dict})["restored"]
    # Created here, not in settings.DATABASES: pytest-django lets a test use such a connection.
    restored = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="restored")
    connections["restored"] = restored  # what `--database restored` reaches
    try:
        yield restored
    finally:
        restored.close()
        del connections["restored"]
        if default.vendor != "sqlite":
            with default.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def every_row(connection):
    """{table: sorted rows} of every table in the database, history tables and django_migrations included."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


@pytest.fixture
def history(transactional_db, plan, department):
    """Records saved, submitted and approved through the workflow, so the history tables hold rows."""
    entered, approver = make_user("tantou", Role.DEPARTMENT, department), make_user("dx", Role.DX_OFFICE, department)
    measures = list(Measure.objects.filter(plan=plan).order_by("pk")[:3])
    for measure in measures:
        measure.department = department
        measure.save()
        record = MeasureYear(measure=measure, fiscal_year=YEAR, kpi_actual=10, actual_cost=120, work_done="講座を実施")
        workflow.save_record(record, entered, 0)
        workflow.save_record(record, entered, record.version, submit=True)
    workflow.approve(record, approver, record.version, "確認しました")
    assert MeasureYear.history.count() >= 7
    yield
    # SQLite empties the tables row by row after a transactional test; the lock refuses that for an
    # approved year (see conftest._reopen_before_flush).
    MeasureYear.objects.filter(status=MeasureYear.Status.APPROVED).update(status=MeasureYear.Status.DRAFT)


def test_a_backup_restored_into_a_new_database_holds_every_row(history, tmp_path):
    source = connections["default"]
    before = every_row(source)
    assert sum(len(rows) for rows in before.values()) > 1000  # the plan, the users, the history

    call_command("backup", str(tmp_path / "portal.backup"))

    with fresh_database(tmp_path) as restored:
        call_command("restore", str(tmp_path / "portal.backup"), database="restored")
        after = every_row(restored)
        assert after.keys() == before.keys()
        for table, rows in before.items():
            assert after[table] == rows, table

        # A second restore over data needs --force, and then replaces what is there.
        with restored.cursor() as cursor:
            cursor.execute("INSERT INTO auth_group (name) VALUES ('後から作ったグループ')")
        changed = every_row(restored)
        with pytest.raises(CommandError, match="すでにデータがあります"):
            call_command("restore", str(tmp_path / "portal.backup"), database="restored")
        assert every_row(restored) == changed != before
        call_command("restore", str(tmp_path / "portal.backup"), database="restored", force=True)
        assert every_row(restored) == before


def test_a_sqlite_backup_runs_while_another_connection_is_writing(tmp_path, django_db_blocker):
    """As while the server serves: a write transaction is open elsewhere; the backup neither waits for
    it nor fails, and holds what was committed."""
    settings_dict = connections.configure_settings(
        {"default": {}, "live": database_settings(f"sqlite:///{tmp_path / 'live.sqlite3'}")}
    )["live"]
    live = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="live")
    connections["live"] = live
    writer = sqlite3.connect(settings_dict["NAME"], isolation_level=None)
    try:
        with django_db_blocker.unblock():
            with live.cursor() as cursor:
                cursor.execute("CREATE TABLE t (who text)")
                cursor.execute("INSERT INTO t VALUES ('committed')")
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO t VALUES ('in progress')")
            started = time.monotonic()
            call_command("backup", str(tmp_path / "live.backup"), database="live")
            assert time.monotonic() - started < 5  # the busy timeout is 20 s: it did not wait for the writer
        writer.execute("COMMIT")
    finally:
        writer.close()
        live.close()
        del connections["live"]
    copy = sqlite3.connect(tmp_path / "live.backup")
    assert copy.execute("SELECT who FROM t").fetchall() == [("committed",)]
    copy.close()


def test_restore_refuses_a_file_that_is_not_a_backup(transactional_db, tmp_path):
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a backup" * 100)
    with fresh_database(tmp_path):
        with pytest.raises(CommandError):
            call_command("restore", str(bogus), database="restored")
        with pytest.raises(CommandError, match="見つかりません"):
            call_command("restore", str(tmp_path / "missing.backup"), database="restored", force=True)
