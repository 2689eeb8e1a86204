from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import BarStatus, GradeThreshold, Kgi, KpiTarget, MeasureYear


class KgiInline(admin.StackedInline):
    model = Kgi
    extra = 0
    max_num = 1


class KpiTargetInline(admin.TabularInline):
    model = KpiTarget
    extra = 0
    fields = ["fiscal_year", "value", "text", "note"]


@admin.register(KpiTarget)
class KpiTargetAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "fiscal_year", "value", "text", "note"]
    list_filter = ["measure__plan", "measure__initiative__policy", "fiscal_year"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]


@admin.register(Kgi)
class KgiAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "text", "target", "unit", "direction", "is_cumulative"]
    list_filter = ["measure__plan", "direction", "is_cumulative"]
    search_fields = ["text", "measure__name", "measure__code"]
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]


@admin.register(GradeThreshold)
class GradeThresholdAdmin(admin.ModelAdmin):
    list_display = ["plan", "grade", "min_rate"]
    list_filter = ["plan"]


class BarStatusInline(admin.TabularInline):
    model = BarStatus
    extra = 0


@admin.register(MeasureYear)
class MeasureYearAdmin(SimpleHistoryAdmin):
    """Read-mostly: entry, approval and reopening go through the portal's own pages and rules."""

    list_display = ["measure", "fiscal_year", "status", "kpi_actual", "actual_cost", "is_sample"]
    list_filter = ["measure__plan", "fiscal_year", "status", "is_sample", "measure__department"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]
    inlines = [BarStatusInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
