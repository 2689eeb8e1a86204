"""An existing database migrates: the portal's triggers never stand in the way of a migration.

SQLite rebuilds a table for most column changes; a trigger on another table that names it would make
that rebuild fail. Run on a SQLite file of its own, through manage.py, as an upgrade would."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(tmp_path, *args):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'installed.sqlite3'}",
        "SECRET_KEY": "test-only",
        "SECURE_COOKIES": "0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_an_installed_database_with_its_triggers_migrates_back_and_forward(tmp_path):
    steps = [
        ("migrate", "--no-input"),  # an installed portal: every table and trigger
        ("migrate", "initiatives", "0002", "--no-input"),  # back to before the plan facts (tables rebuilt)
        ("migrate", "--no-input"),  # the upgrade: forward again, through every rebuild
    ]
    for step in steps:
        result = manage(tmp_path, *step)
        assert result.returncode == 0, (step, result.stderr[-2000:])
    query = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
    code = f"from django.db import connection; c = connection.cursor(); c.execute({query!r}); print(c.fetchone()[0])"
    triggers = manage(tmp_path, "shell", "-c", code)
    assert triggers.returncode == 0 and int(triggers.stdout.split()[-1]) > 10  # recreated after the upgrade
