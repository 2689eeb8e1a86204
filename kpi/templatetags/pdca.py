"""Template tags that hand over to kpi's rules (loaded as a builtin)."""

from django import template

from kpi.attention import record_state as state_of

register = template.Library()


@register.simple_tag
def record_state(record, overdue=False):
    """{% record_state record overdue as state %}: (key, label), as kpi.attention.record_state decides."""
    return state_of(record or None, bool(overdue))
