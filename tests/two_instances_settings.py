"""The production settings for the gunicorn instances of tests/test_two_instances.py, except one thing:
static files are served from the finders, unhashed, as the test run has no collectstatic
(the same exception as conftest._static_without_manifest)."""

from ohnojo_dx.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
