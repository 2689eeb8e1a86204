"""The admin's measure editor: the measure with its KGI, schedule, yearly targets and costs on one
page. It spans the three apps, so it lives in the top layer."""

from django.contrib import admin

from budget.admin import PlannedCostInline
from initiatives.admin import HistoryAdmin, ScheduleBarInline
from initiatives.models import Measure
from kpi.admin import KgiInline, KpiTargetInline


@admin.register(Measure)
class MeasureAdmin(HistoryAdmin):
    list_display = ["code", "name", "initiative", "department"]
    list_filter = ["plan", "initiative__policy", "initiative", "department"]
    search_fields = ["code", "name", "content", "goal"]
    list_select_related = ["initiative__policy", "department"]
    inlines = [KgiInline, ScheduleBarInline, KpiTargetInline, PlannedCostInline]

    def save_formset(self, request, form, formset, change):
        formset.user = request.user  # yearly targets and costs are saved through kpi.workflow as this user
        super().save_formset(request, form, formset, change)
