"""Database faults survived: SQLite writers wait for each other, and an unreachable database answers 503."""

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, ProgrammingError, connections, transaction
from django.test import Client
from django.urls import include, path, reverse

from conftest import database_down
from ohnojo_dx import errors
from ohnojo_dx.settings import database_settings

# --- SQLite: WAL, BEGIN IMMEDIATE, busy timeout ------------------------------------------------------


@contextmanager
def file_database(django_db_blocker, alias, settings_dict):
    """A Django connection alias on its own SQLite file (one connection per thread, as in a server)."""
    connections.settings[alias] = connections.configure_settings({"default": {}, alias: settings_dict})[alias]
    try:
        with django_db_blocker.unblock():
            yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


def test_settings_give_sqlite_wal_immediate_transactions_and_a_busy_timeout(tmp_path, django_db_blocker):
    settings_dict = database_settings(f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    with file_database(django_db_blocker, "wal_check", settings_dict) as alias:
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 20_000  # milliseconds
            cursor.execute("CREATE TABLE t (id integer PRIMARY KEY)")
        with transaction.atomic(using=alias):
            connections[alias].cursor().execute("SELECT count(*) FROM t")
            # Nothing written yet, yet the write lock is held from BEGIN on: another writer cannot start.
            other = sqlite3.connect(settings_dict["NAME"], timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()


def two_writers(alias):
    """Writer 1 reads then writes in one transaction and holds it ~2 s; writer 2 does the same meanwhile.

    Returns the error each thread raised (None if it committed). Writer 1 gives writer 2 up to 2 s to
    reach its first read inside its transaction before writing itself.
    """
    first_read, second_read = threading.Event(), threading.Event()
    outcome = {}

    def writer(name, before, after):
        try:
            if before:
                assert before.wait(10)
            with transaction.atomic(using=alias):
                cursor = connections[alias].cursor()
                cursor.execute("SELECT count(*) FROM t")
                after.set()
                if name == "first":
                    second_read.wait(2)  # with BEGIN IMMEDIATE the second writer is still waiting at BEGIN
                cursor.execute("INSERT INTO t (who) VALUES (%s)", [name])
            outcome[name] = None
        except OperationalError as error:
            outcome[name] = error
        finally:
            connections[alias].close()

    threads = [
        threading.Thread(target=writer, args=("first", None, first_read)),
        threading.Thread(target=writer, args=("second", first_read, second_read)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome


def create_table(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE t (id integer PRIMARY KEY, who text)")
    connections[alias].close()


def test_two_concurrent_writers_on_sqlite_wait_for_each_other(tmp_path, django_db_blocker):
    settings_dict = database_settings(f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    with file_database(django_db_blocker, "writers", settings_dict) as alias:
        create_table(alias)
        assert two_writers(alias) == {"first": None, "second": None}
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT who FROM t ORDER BY id")
            assert cursor.fetchall() == [("first",), ("second",)]


def test_without_those_settings_the_second_writer_fails_with_database_is_locked(tmp_path, django_db_blocker):
    """The same two writers on Django's SQLite defaults (deferred BEGIN, rollback journal, 5 s timeout).

    Each transaction starts with a read lock, and both want to upgrade it: one of them must give up,
    and SQLite answers it SQLITE_BUSY ("database is locked") rather than wait into a deadlock, whatever
    the timeout. Which one fails depends on the journal mode; that one fails is what matters.
    """
    settings_dict = database_settings(f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    settings_dict["OPTIONS"] = {}
    with file_database(django_db_blocker, "old_writers", settings_dict) as alias:
        create_table(alias)
        outcome = two_writers(alias)
    failed = [error for error in outcome.values() if error is not None]
    assert len(failed) == 1
    assert "database is locked" in str(failed[0])


# --- PostgreSQL: a kept connection that the server dropped --------------------------------------


def server_drops_a_kept_connection(health_checks):
    """A connection kept between requests (CONN_MAX_AGE) is ended by the server (a restart, a failover,
    an idle timeout); then the next request starts and queries. Returns that query's error or None."""
    default = connections["default"]
    kept_settings = {**default.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": health_checks}
    kept = default.__class__(kept_settings, alias="kept")  # made here: pytest-django lets the test use it
    try:
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with default.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        kept.close_if_unusable_or_obsolete()  # what Django does when a request starts
        try:
            with kept.cursor() as cursor:
                cursor.execute("SELECT 1")
        except (OperationalError, InterfaceError) as error:
            return error
        return None
    finally:
        kept.close()


def test_postgresql_replaces_a_connection_the_server_dropped(db):
    if connections["default"].vendor != "postgresql":
        pytest.skip("PostgreSQL only (SQLite has no server to drop a connection); runs in make test on PostgreSQL")
    assert database_settings("postgres://u@127.0.0.1/portal")["CONN_HEALTH_CHECKS"] is True
    assert server_drops_a_kept_connection(health_checks=True) is None
    # Without the check, the request that inherits the dead connection fails.
    assert server_drops_a_kept_connection(health_checks=False) is not None


# --- An unreachable database: 503 with a Japanese page, never a 500 ------------------------------


def assert_japanese_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "データベースに接続できません" in page
    assert "OperationalError" not in page and "Traceback" not in page


def test_a_signed_in_page_answers_503_while_the_database_is_down(viewer, plan, tmp_path):
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    url = reverse("initiatives:plan_detail", args=[plan.code])
    assert client.get(url).status_code == 200
    with database_down(tmp_path):
        assert_japanese_503(client.get(url))
        assert_japanese_503(client.post(url, {"anything": "1"}))
    assert client.get(url).status_code == 200


def test_healthz_answers_503_with_a_session_cookie_too(viewer, db, tmp_path):
    client = Client(raise_request_exception=False)
    client.force_login(viewer)  # the middleware asks the database who is signed in
    with database_down(tmp_path):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert "データベースに接続できません" in response.content.decode()


def test_healthz_answers_503_to_a_load_balancer(db, tmp_path):
    client = Client(raise_request_exception=False)
    with database_down(tmp_path):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.content.decode() == "データベースに接続できません"


# The real handler500 with views that raise, through this module as ROOT_URLCONF.
@login_not_required
def lost_connection(request):
    raise OperationalError("server closed the connection unexpectedly")


@login_not_required
def lost_mid_result(request):
    raise DatabaseError("error with status PGRES_TUPLES_OK and no message from the libpq")


@login_not_required
def broken(request):
    raise RuntimeError("a bug")


@login_not_required
def bad_sql(request):
    raise ProgrammingError('syntax error at or near "SELEC"')


urlpatterns = [
    path("test-only/lost-connection/", lost_connection),
    path("test-only/lost-mid-result/", lost_mid_result),
    path("test-only/bug/", broken),
    path("test-only/bad-sql/", bad_sql),
    path("", include("ohnojo_dx.urls")),
]
handler500 = errors.server_error


@pytest.mark.urls(__name__)
def test_a_connection_lost_mid_request_answers_503_and_a_bug_still_500(db):
    client = Client(raise_request_exception=False)
    assert_japanese_503(client.get("/test-only/lost-connection/"))
    assert_japanese_503(client.get("/test-only/lost-mid-result/"))  # the driver's bare DatabaseError
    for bug in ("/test-only/bug/", "/test-only/bad-sql/"):  # a fault of the code or of its SQL stays a 500
        response = client.get(bug)
        assert response.status_code == 500, bug
        assert "Retry-After" not in response
        assert "エラーが発生しました" in response.content.decode()
