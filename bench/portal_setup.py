"""Start Django for a benchmark script on a database of its own.

Never the portal's own DATABASE_URL: a benchmark fills its database with thousands of synthetic
measures. It uses a SQLite file in a new temporary folder, or BENCH_DATABASE_URL.
"""

import os
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_django(prefix):
    """Set up the environment and Django; returns the temporary folder."""
    sys.path.insert(0, str(ROOT))
    tmp = tempfile.mkdtemp(prefix=prefix)
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
