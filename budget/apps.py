from django.apps import AppConfig


class BudgetConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "budget"
    verbose_name = "経費"

    def ready(self):
        from initiatives.db import install_after_migrate, year_in_plan
        from initiatives.permissions import register_admin_perms
        from kpi.db import plan_row_lock

        from .models import BudgetFigure, GeneralFundPlan, PlannedCost

        register_admin_perms(self)
        install_after_migrate(
            self,
            lambda vendor: [
                year_in_plan("planned_cost_year_in_plan", PlannedCost, "measure", "fiscal_year"),
                year_in_plan("general_fund_year_in_plan", GeneralFundPlan, "policy", "fiscal_year"),
                plan_row_lock("planned_cost_lock", PlannedCost),
                year_in_plan("budget_figure_year_in_plan", BudgetFigure, "measure", "fiscal_year"),
                plan_row_lock("budget_figure_lock", BudgetFigure),
            ],
        )
