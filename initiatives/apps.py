from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "initiatives"
    verbose_name = "計画・施策"

    def ready(self):
        from .db import install_after_migrate, year_in_plan
        from .models import ScheduleBar
        from .permissions import register_admin_perms

        # Deleting a whole plan would take every record under it, and binding roles to groups decides
        # who may do what: only a superuser may do either.
        roles = {f"initiatives.{action}_rolegroup" for action in ("add", "change", "delete")}
        register_admin_perms(self, never={"initiatives.delete_plan", *roles})
        install_after_migrate(
            self,
            lambda vendor: [
                year_in_plan("schedule_bar_year_in_plan", ScheduleBar, "measure", "start_year", "end_year")
            ],
        )
