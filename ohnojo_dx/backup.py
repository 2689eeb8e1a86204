"""Backup and restore of the whole database (manage.py backup / restore).

SQLite: the online backup API copies a consistent snapshot page by page while the server keeps
serving (readers and writers wait at most a moment). PostgreSQL: pg_dump's custom format (-Fc), put
back by pg_restore. Both work on a Django connection alias, so they follow DATABASE_URL.
"""

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path


class BackupError(Exception):
    """A backup or restore that could not be done; the message is for the operator."""


def backup(connection, path):
    """Write a consistent copy of the database behind ``connection`` to ``path`` (replaced when done)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")  # never a half-written file under the real name
    partial.unlink(missing_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        _run_pg(connection, "pg_dump", ["--format=custom", f"--file={partial}"])
    else:
        raise BackupError(f"{connection.vendor} のバックアップには対応していません。")
    partial.replace(path)


def is_empty(connection):
    """No tables at all: a database never migrated (a new file, or a database just created)."""
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(connection, path, force=False):
    """Put the backup at ``path`` into the database behind ``connection``, replacing what is there."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"バックアップファイル {path} が見つかりません。")
    if not force and not is_empty(connection):
        raise BackupError(
            "復元先のデータベースにはすでにデータがあります。上書きしてよい場合だけ --force を付けて実行してください。"
        )
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.execute("PRAGMA schema_version").fetchone()  # not an SQLite file: fails here, before writing
            source.backup(connection.connection)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} を SQLite のバックアップとして読めません（{error}）。") from error
        finally:
            source.close()
        connection.close()  # the next use reads the restored schema from scratch
    elif connection.vendor == "postgresql":
        connection.close()  # pg_restore drops and recreates tables; no session of ours may hold them
        _run_pg(
            connection,
            "pg_restore",
            ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", str(path)],
        )
    else:
        raise BackupError(f"{connection.vendor} の復元には対応していません。")


def pg_program(name):
    """pg_dump / pg_restore: from PATH, else the newest in /usr/lib/postgresql/*/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    if not candidates:
        raise BackupError(f"{name} が見つかりません。PostgreSQL のクライアント（postgresql-client）を入れてください。")
    return candidates[-1]


def _run_pg(connection, program, arguments):
    settings = connection.settings_dict
    environment = {**os.environ, "PGDATABASE": settings["NAME"]}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if settings.get(key):
            environment[variable] = str(settings[key])
    if "sslmode" in settings.get("OPTIONS", {}):
        environment["PGSSLMODE"] = settings["OPTIONS"]["sslmode"]
    database = ["--dbname", settings["NAME"]] if program == "pg_restore" else []
    result = subprocess.run(
        [pg_program(program), *database, *arguments], env=environment, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BackupError(f"{program} が失敗しました：{result.stderr.strip()}")
