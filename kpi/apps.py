from django.apps import AppConfig


class KpiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "kpi"
    verbose_name = "数値目標・評価指標"

    def ready(self):
        from initiatives.db import install_after_migrate, year_in_plan
        from initiatives.permissions import register_admin_perms

        from .db import bar_status_lock, interim_lock, plan_row_lock, record_lock
        from .models import IndicatorYear, InterimReview, KpiTarget, MeasureYear

        # Records are written only through kpi.workflow: the admin shows them read-only.
        records = {
            f"kpi.{a}_{m}"
            for a in ("add", "change", "delete")
            for m in ("measureyear", "barstatus", "interimreview", "indicatoryear")
        }
        register_admin_perms(self, never=records)
        install_after_migrate(
            self,
            lambda vendor: [
                year_in_plan("kpi_target_year_in_plan", KpiTarget, "measure", "fiscal_year"),
                year_in_plan("measure_year_year_in_plan", MeasureYear, "measure", "fiscal_year"),
                plan_row_lock("kpi_target_lock", KpiTarget),
                record_lock(vendor),
                bar_status_lock(),
                year_in_plan("interim_review_year_in_plan", InterimReview, "measure", "fiscal_year"),
                interim_lock(vendor),
                year_in_plan("indicator_year_in_plan", IndicatorYear, "measure", "fiscal_year"),
                plan_row_lock("indicator_year_lock", IndicatorYear),
            ],
        )
