from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from .fields import RefuseControlCharacters
from .models import (
    Department,
    Initiative,
    MeasureGroup,
    NationalPriority,
    Plan,
    PlanRevision,
    Policy,
    RoleGroup,
    ScheduleBar,
)


class PortalAdminForm(RefuseControlCharacters, forms.ModelForm):
    """Every admin form: text refuses control characters, as the portal's own forms do."""


class PortalAdmin(admin.ModelAdmin):
    form = PortalAdminForm


class HistoryAdmin(SimpleHistoryAdmin):
    """Change history to read, never to write: an old version is shown, and posting it back is refused.

    django-simple-history's history form saves whatever is posted to it (past every lock and
    version check), so it answers only GET here; reverting goes through the normal edit pages.
    """

    form = PortalAdminForm

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("変更履歴から元に戻すことはできません。通常の編集画面から変更してください。")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ListOnly:
    """An admin that lists rows and changes, adds or deletes none."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ListOnly, HistoryAdmin):
    """Rows written on the portal's own pages, through kpi.workflow: the admin lists them and their
    history, and changes, adds or deletes none."""


class PolicyInline(admin.StackedInline):
    model = Policy
    form = PortalAdminForm
    extra = 0


class NationalPriorityInline(admin.TabularInline):
    model = NationalPriority
    form = PortalAdminForm
    extra = 0
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}


@admin.register(Plan)
class PlanAdmin(HistoryAdmin):
    list_display = ["title", "municipality", "code", "start_year", "end_year", "adopted_on"]
    search_fields = ["title", "municipality", "code"]
    inlines = [NationalPriorityInline, PolicyInline]
    readonly_fields = ["drafted_from"]  # set when the next plan is drafted (budget.next_plan)


@admin.register(Policy)
class PolicyAdmin(PortalAdmin):
    list_display = ["__str__", "plan", "number"]
    list_filter = ["plan"]
    search_fields = ["title"]


@admin.register(Initiative)
class InitiativeAdmin(PortalAdmin):
    list_display = ["title", "policy", "number", "urgency", "importance", "status"]
    list_filter = ["policy__plan", "policy", "status"]
    search_fields = ["title", "consideration"]
    list_select_related = ["policy"]


@admin.register(MeasureGroup)
class MeasureGroupAdmin(HistoryAdmin):
    """The third level of a plan of four levels (Plan.group_level_name names it)."""

    list_display = ["title", "initiative", "number"]
    list_filter = ["initiative__policy__plan"]
    search_fields = ["title"]
    list_select_related = ["initiative__policy"]


class ScheduleBarInline(admin.TabularInline):
    model = ScheduleBar
    form = PortalAdminForm
    extra = 0
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}
    fields = ["order", "label", "start_year", "end_year", "is_inferred", "basis"]


@admin.register(ScheduleBar)
class ScheduleBarAdmin(HistoryAdmin):
    list_display = ["label", "measure", "start_year", "end_year", "is_inferred"]
    list_filter = ["measure__plan", "is_inferred"]
    search_fields = ["label", "measure__name"]
    autocomplete_fields = ["measure"]


@admin.register(Department)
class DepartmentAdmin(PortalAdmin):
    list_display = ["name", "code", "is_sample"]
    list_filter = ["is_sample"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]


@admin.register(RoleGroup)
class RoleGroupAdmin(PortalAdmin):
    list_display = ["role", "group"]


@admin.register(PlanRevision)
class PlanRevisionAdmin(ReadOnlyAdmin):
    """Revisions are recorded and applied on the plan's revision pages (kpi.workflow)."""

    list_display = ["plan", "number", "decided_on", "decided_by"]
    list_filter = ["plan"]
