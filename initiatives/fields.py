"""Number fields that accept what people type in Japanese offices.

Full-width digits, full-width or ASCII commas and the plan's "－" (meaning
none) are all accepted; the one normalisation lives in normalize_number().
"""

import unicodedata

from django import forms

DASHES = {"-", "－", "—", "―", "−", "ー"}


def normalize_number(value):
    """'１２，３４５' → '12345'; '－' → '' (none)."""
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    return "" if text in DASHES else text


class NumberInput(forms.TextInput):
    """A text box (type=number would refuse full-width digits before we see them)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", "class": "num-input", **(attrs or {})})


class JapaneseDecimalField(forms.DecimalField):
    widget = NumberInput

    def to_python(self, value):
        return super().to_python(normalize_number(value) if isinstance(value, str) else value)

    def widget_attrs(self, widget):
        return {}  # no step/min attributes: the browser must not pre-validate


class JapaneseIntegerField(forms.IntegerField):
    widget = NumberInput

    def to_python(self, value):
        return super().to_python(normalize_number(value) if isinstance(value, str) else value)

    def widget_attrs(self, widget):
        return {}
