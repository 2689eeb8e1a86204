"""The admin's measure editor: the measure with its KGI, schedule, yearly targets and costs on one
page. It spans the three apps, so it lives in the top layer."""

from django import forms
from django.contrib import admin

from budget.admin import PlannedCostInline
from initiatives.admin import HistoryAdmin, PortalAdminForm, ScheduleBarInline
from initiatives.models import Measure, NationalPriority
from kpi.admin import KgiInline, KpiTargetInline


class MeasureAdminForm(PortalAdminForm):
    def clean(self):
        cleaned = super().clean()
        plan, priorities = cleaned.get("plan"), cleaned.get("national_priorities")
        if plan is not None and priorities and any(p.plan_id != plan.pk for p in priorities):
            self.add_error(
                "national_priorities",
                forms.ValidationError("別の計画の重点取組事項は選べません。", code="plan_mismatch"),
            )
        return cleaned


@admin.register(Measure)
class MeasureAdmin(HistoryAdmin):
    form = MeasureAdminForm
    list_display = ["code", "name", "initiative", "department"]
    list_filter = ["plan", "initiative__policy", "initiative", "national_priorities", "department"]
    search_fields = ["code", "name", "content", "goal"]
    list_select_related = ["initiative__policy", "department"]
    inlines = [KgiInline, ScheduleBarInline, KpiTargetInline, PlannedCostInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "national_priorities" in form.base_fields:
            # Only the 重点取組事項 the measure's own plan cites.
            form.base_fields["national_priorities"].queryset = NationalPriority.objects.filter(plan=obj.plan_id)
        return form

    def save_formset(self, request, form, formset, change):
        formset.user = request.user  # yearly targets and costs are saved through kpi.workflow as this user
        super().save_formset(request, form, formset, change)
