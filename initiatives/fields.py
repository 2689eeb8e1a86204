"""Form fields that accept what people type in Japanese offices, and refuse what they cannot mean.

Full-width digits, full-width or ASCII commas and the plan's "－" (meaning
none) are all accepted; the one normalisation lives in normalize_number().
Text may hold newlines and tabs but no other control characters.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

DASHES = {"-", "－", "—", "―", "−", "ー"}
# What is left of a number once normalised: ASCII digits and at most one decimal point. Python's own
# parsers would also take "1_000", "1e3", "+1" and non-ASCII digits, none of which anyone means here.
PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
# Counts, amounts and KPI values in a plan are never negative.
NEGATIVE_MESSAGE = _("負の数は入力できません（0 以上の値を入力してください）。")

# C0 controls except tab and LF, a CR not followed by LF, DEL and the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
CONTROL_CHARACTERS_MESSAGE = _("制御文字（改行・タブ以外）は入力できません。")


# Text a spreadsheet runs as a formula when a CSV cell starts with it (OWASP's list, a leading tab or line
# break too; Japanese Excel takes the full-width signs as the ASCII ones). A CSV the portal writes puts a "'"
# before such text: the open data (kpi.publishing) for these, the entry file (kpi.transfer) also for | and %.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def has_control_characters(text):
    return bool(CONTROL_CHARACTERS.search(text))


def no_control_characters(value):
    """Validator for text: a pasted NUL, escape or form feed would break exports and screen readers."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTERS_MESSAGE, code="control_characters")


class RefuseControlCharacters:
    """Form mixin: every text field of the form refuses control characters.

    Django's own NUL check is dropped, since its Japanese message (「何か文字を入力してください。」)
    reads as if the field were empty; no_control_characters covers NUL with a message that says why.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                kept = [v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)]
                field.validators = [*kept, no_control_characters]


def normalize_number(value):
    """'１２，３４５' → '12345'; '－' → '' (none); '－１' → '-1' (negative, refused by the fields)."""
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    return "" if text in DASHES else text


class NumberInput(forms.TextInput):
    """A text box (type=number would refuse full-width digits before we see them)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", "class": "num-input", **(attrs or {})})


class _JapaneseNumber:
    """Typed text → normalize_number() → a plain non-negative number, or the field's own message."""

    widget = NumberInput

    def to_python(self, value):
        if isinstance(value, str):
            value = normalize_number(value)
            if value[:1] in DASHES and PLAIN_NUMBER.fullmatch(value[1:]):
                raise ValidationError(NEGATIVE_MESSAGE, code="negative")
            if value and not PLAIN_NUMBER.fullmatch(value):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def widget_attrs(self, widget):
        return {}  # no step/min attributes: the browser must not pre-validate


class JapaneseDecimalField(_JapaneseNumber, forms.DecimalField):
    pass


class JapaneseIntegerField(_JapaneseNumber, forms.IntegerField):
    pass


class JapaneseDateField(forms.DateField):
    """A date as typed here: 2025-11-05 (a date picker's), 2025/11/05, full-width digits too."""

    input_formats = ["%Y-%m-%d", "%Y/%m/%d"]

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).strip()
        return super().to_python(value)
