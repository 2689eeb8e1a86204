from django.db import migrations

from initiatives.db import year_in_plan_trigger


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0001_initial")]

    operations = [
        year_in_plan_trigger(
            "schedule_bar_year_in_plan",
            "initiatives_schedulebar",
            "measure_id",
            "initiatives_measure",
            ["start_year", "end_year"],
        )
    ]
