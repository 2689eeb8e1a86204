from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "initiatives"
    verbose_name = "計画・施策"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .db import ensure_year_triggers

        # After every migrate, not in a migration: see initiatives/db.py.
        post_migrate.connect(ensure_year_triggers, sender=self, dispatch_uid="initiatives-year-triggers")
