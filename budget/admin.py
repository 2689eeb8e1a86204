from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import GeneralFundPlan, PlannedCost


class PlannedCostInline(admin.TabularInline):
    model = PlannedCost
    extra = 0
    fields = ["fiscal_year", "amount", "note"]


@admin.register(PlannedCost)
class PlannedCostAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "fiscal_year", "amount"]
    list_filter = ["measure__plan", "measure__initiative__policy", "fiscal_year"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]


@admin.register(GeneralFundPlan)
class GeneralFundPlanAdmin(SimpleHistoryAdmin):
    list_display = ["policy", "measure", "fiscal_year", "amount"]
    list_filter = ["policy__plan", "policy", "fiscal_year"]
    list_select_related = ["policy", "measure"]
    autocomplete_fields = ["measure"]
