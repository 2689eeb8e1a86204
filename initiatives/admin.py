from django.contrib import admin
from django.db import models
from django.forms import Textarea
from simple_history.admin import SimpleHistoryAdmin

from budget.admin import PlannedCostInline
from kpi.admin import KgiInline, KpiTargetInline

from .models import Department, Initiative, Measure, Plan, Policy, ScheduleBar


class PolicyInline(admin.StackedInline):
    model = Policy
    extra = 0


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ["title", "municipality", "code", "start_year", "end_year", "adopted_on"]
    search_fields = ["title", "municipality", "code"]
    inlines = [PolicyInline]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "number"]
    list_filter = ["plan"]
    search_fields = ["title"]


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["title", "policy", "number", "urgency", "importance", "is_priority", "status"]
    list_filter = ["policy__plan", "policy", "status", "is_priority"]
    search_fields = ["title", "consideration"]
    list_select_related = ["policy"]


class ScheduleBarInline(admin.TabularInline):
    model = ScheduleBar
    extra = 0
    formfield_overrides = {models.TextField: {"widget": Textarea(attrs={"rows": 2, "cols": 40})}}
    fields = ["order", "label", "start_year", "end_year", "is_inferred", "basis"]


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "initiative", "department"]
    list_filter = ["plan", "initiative__policy", "initiative", "department"]
    search_fields = ["code", "name", "content", "goal"]
    list_select_related = ["initiative__policy", "department"]
    inlines = [KgiInline, ScheduleBarInline, KpiTargetInline, PlannedCostInline]


@admin.register(ScheduleBar)
class ScheduleBarAdmin(SimpleHistoryAdmin):
    list_display = ["label", "measure", "start_year", "end_year", "is_inferred"]
    list_filter = ["measure__plan", "is_inferred"]
    search_fields = ["label", "measure__name"]
    autocomplete_fields = ["measure"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_sample"]
    list_filter = ["is_sample"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]
