"""Pages of measures: a whole-plan page shows one page of rows, whatever the plan's size.

The page's rows are those of the whole list for the page's measures; filters and totals stay over the whole
filter (each page computes them with SQL, never from its rows).
"""

from django.core.paginator import Paginator
from django.db.models import Q

PER_PAGE = 50  # measures per page


def page_of(request, items, per_page=PER_PAGE, count=None):
    """The ?page=N page of ``items`` (a queryset in a fixed order): one COUNT (none when the caller counted
    them already: ``count``) and one slice.

    A page that is not a number reads as the first, one past the end as the last (Django's get_page): a
    link kept from a larger filter still opens a page."""
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count  # a cached property: what the caller's aggregate found
    return paginator.get_page(request.GET.get("page"))


def page_number(measure, measures, per_page=PER_PAGE):
    """The page of ``measures`` (a queryset, in initiatives.models.PLAN_ORDER) that shows ``measure`` (with its
    initiative and policy loaded): one COUNT of the measures before it. Where a form sends the user back to the
    list."""
    policy, initiative = measure.initiative.policy.number, measure.initiative.number
    before = (
        Q(initiative__policy__number__lt=policy)
        | Q(initiative__policy__number=policy, initiative__number__lt=initiative)
        | Q(initiative__policy__number=policy, initiative__number=initiative, ordinal__lt=measure.ordinal)
    )
    return measures.filter(before).count() // per_page + 1
