"""Template filters that hand over to initiatives.fiscal (loaded as a builtin)."""

from django import template

from initiatives import fiscal

register = template.Library()

register.filter("fiscal_year", fiscal.fiscal_year_label)
register.filter("fiscal_year_short", fiscal.fiscal_year_short)
register.filter("fiscal_year_long", fiscal.fiscal_year_long)
register.filter("amount", fiscal.format_amount)
register.filter("number", fiscal.format_number)


@register.filter
def kpi_display(target, kgi):
    """A KPI target (kpi.KpiTarget) in the unit and shape of the measure's KGI: its display(), kpi.models.kpi_text."""
    return target.display(kgi)
