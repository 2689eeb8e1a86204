from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Kgi, KpiTarget


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
