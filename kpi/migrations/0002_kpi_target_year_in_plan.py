from django.db import migrations

from initiatives.db import year_in_plan_trigger


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]

    operations = [
        year_in_plan_trigger(
            "kpi_target_year_in_plan", "kpi_kpitarget", "measure_id", "initiatives_measure", ["fiscal_year"]
        )
    ]
