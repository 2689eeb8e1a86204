"""ASGI entry point (gunicorn ohnojo_dx.wsgi). Refuses to serve without SECRET_KEY unless DEBUG."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ohnojo_dx.settings")

from ohnojo_dx.settings import require_secret_key  # noqa: E402

require_secret_key()
application = get_asgi_application()
