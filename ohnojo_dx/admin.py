"""The admin's measure editor: the measure with its KGI, schedule, yearly targets and costs on one
page. It spans the three apps, so it lives in the top layer."""

from django import forms
from django.contrib import admin

from budget.admin import PlannedCostInline
from initiatives.admin import HistoryAdmin, PortalAdminForm, ScheduleBarInline
from initiatives.models import Initiative, Measure, MeasureGroup, NationalPriority
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


def initiatives_with_policy():
    """Every 取組 with its 基本方針 in one query: Initiative.__str__ shows the policy's numeral."""
    return Initiative.objects.select_related("policy")


class InitiativeListFilter(admin.RelatedFieldListFilter):
    """The change list's 取組 filter, its choices labelled in one query (not one per 取組)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        return [(i.pk, str(i)) for i in initiatives_with_policy().order_by(*ordering)]


@admin.register(Measure)
class MeasureAdmin(HistoryAdmin):
    form = MeasureAdminForm
    list_display = ["code", "name", "initiative", "department"]
    list_filter = [
        "plan",
        "initiative__policy",
        ("initiative", InitiativeListFilter),
        "national_priorities",
        "department",
    ]
    search_fields = ["code", "name", "content", "goal"]
    list_select_related = ["initiative__policy", "department"]
    inlines = [KgiInline, ScheduleBarInline, KpiTargetInline, PlannedCostInline]
    readonly_fields = ["predecessor"]  # set when the next plan is drafted (budget.next_plan)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "national_priorities" in form.base_fields:
            # Only the 重点取組事項 the measure's own plan cites.
            form.base_fields["national_priorities"].queryset = NationalPriority.objects.filter(plan=obj.plan_id)
        if "group" in form.base_fields:
            # Only the groups of the measure's own 取組 (none in a plan of three levels).
            groups = MeasureGroup.objects.filter(initiative=obj.initiative_id) if obj else MeasureGroup.objects.none()
            form.base_fields["group"].queryset = groups
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "initiative":
            kwargs["queryset"] = initiatives_with_policy()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        formset.user = request.user  # yearly targets and costs are saved through kpi.workflow as this user
        super().save_formset(request, form, formset, change)
