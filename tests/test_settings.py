"""Production refuses to serve without a SECRET_KEY; commands and development do not need one."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_serving_without_a_secret_key_is_refused():
    result = run("import ohnojo_dx.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY を環境変数で設定してください" in result.stderr


def test_serving_with_a_secret_key_starts():
    assert run("import ohnojo_dx.wsgi", SECRET_KEY="x" * 50).returncode == 0


def test_development_needs_no_key():
    assert run("import ohnojo_dx.wsgi", DJANGO_DEBUG="1").returncode == 0


def test_management_commands_run_without_a_key():
    result = run(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'makemigrations', '--check', '--dry-run'])",
        DJANGO_SETTINGS_MODULE="ohnojo_dx.settings",
    )
    assert result.returncode == 0, result.stderr
