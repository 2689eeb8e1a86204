from django.db import migrations

from initiatives.db import year_in_plan_trigger


class Migration(migrations.Migration):
    dependencies = [("budget", "0001_initial")]

    operations = [
        year_in_plan_trigger(
            "planned_cost_year_in_plan", "budget_plannedcost", "measure_id", "initiatives_measure", ["fiscal_year"]
        ),
        year_in_plan_trigger(
            "general_fund_year_in_plan", "budget_generalfundplan", "policy_id", "initiatives_policy", ["fiscal_year"]
        ),
    ]
