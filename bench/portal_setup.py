"""Start Django for a benchmark script on a database of its own, and write its section of docs/benchmark.md.

Never the portal's own DATABASE_URL: a benchmark fills its database with thousands of synthetic
measures. It uses a SQLite file in a new temporary folder (removed when the script ends, also on a
failure or on SIGTERM), or BENCH_DATABASE_URL.
"""

import atexit
import os
import shutil
import signal
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmark.md"


def remove_at_exit(path):
    """Remove a temporary folder when the script ends: normally, on an exception, or on SIGTERM/SIGHUP
    (turned into SystemExit so that atexit runs). SIGKILL cannot be caught."""
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    exit_on_signals()


def exit_on_signals():
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, stop)


def start_django(prefix):
    """Set up the environment and Django; returns the temporary folder (removed at exit)."""
    sys.path.insert(0, str(ROOT))
    tmp = tempfile.mkdtemp(prefix=prefix)
    remove_at_exit(tmp)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ohnojo_dx.settings")
    os.environ.setdefault("SECURE_COOKIES", "0")
    os.environ["AXES_ENABLED"] = "0"

    import django
    from django.conf import settings

    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collectstatic for a benchmark
    django.setup()
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    return tmp


def _markers(name):
    return f"<!-- section:{name} -->", f"<!-- /section:{name} -->"


def write_section(name, markdown, path=REPORT):
    """Replace the text between ``<!-- section:NAME -->`` and ``<!-- /section:NAME -->`` in docs/benchmark.md
    with ``markdown`` (each bench script owns its sections); a section not yet there is appended."""
    begin, end = _markers(name)
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# ベンチマーク\n"
    start = text.find(begin)
    stop = text.find(end, start + len(begin)) if start >= 0 else -1
    if start >= 0 and stop >= 0:
        text = text[:start] + block + text[stop + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")


def result_tables(rows, checks):
    """Markdown lines: the figures ((label, value) pairs), a blank line, then each goal and whether it was met."""
    return [
        "| 項目 | 値 |",
        "|---|---|",
        *(f"| {label} | {value} |" for label, value in rows),
        "",
        "| 目標 | 結果 |",
        "|---|---|",
        *(f"| {name} | {'達成' if ok else '未達'} |" for name, ok in checks.items()),
    ]
