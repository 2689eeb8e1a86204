"""What the number and text fields accept from a Japanese office keyboard, and what they refuse."""

from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError

from initiatives.fields import JapaneseDecimalField, JapaneseIntegerField, RefuseControlCharacters


def refused(field, value):
    """The messages the field answers value with (fails if it accepts it)."""
    with pytest.raises(ValidationError) as raised:
        field.clean(value)
    return raised.value.messages


# Numbers


@pytest.mark.parametrize(
    "typed, number",
    [
        ("１２，３４５", 12345),
        ("12,345", 12345),
        ("1 000", 1000),
        (" ４２ ", 42),
        ("0", 0),
    ],
)
def test_integer_field_accepts_what_offices_type(typed, number):
    assert JapaneseIntegerField().clean(typed) == number


@pytest.mark.parametrize(
    "typed, number",
    [
        ("７８．５", Decimal("78.5")),
        ("1,234.50", Decimal("1234.50")),
        ("98500", Decimal("98500")),
        (".5", Decimal("0.5")),
    ],
)
def test_decimal_field_accepts_what_offices_type(typed, number):
    assert JapaneseDecimalField().clean(typed) == number


@pytest.mark.parametrize("field_class", [JapaneseIntegerField, JapaneseDecimalField])
@pytest.mark.parametrize("typed", ["－", "-", "―", "", "  "])
def test_the_plans_dash_means_none(field_class, typed):
    assert field_class(required=False).clean(typed) is None


@pytest.mark.parametrize(
    "typed",
    ["1_000", "１＿０００", "1e3", "+1", "0x10", "١٢", "1.2.3", "abc", "12円", "NaN", "Infinity", "1\x00"],
    ids=repr,
)
def test_what_is_not_a_plain_number_is_refused(typed):
    assert refused(JapaneseIntegerField(), typed) == ["整数を入力してください。"]
    assert refused(JapaneseDecimalField(), typed) == ["数値を入力してください。"]


@pytest.mark.parametrize("field_class", [JapaneseIntegerField, JapaneseDecimalField])
@pytest.mark.parametrize("typed", ["-1", "－１", "−1", "ー1", "-0.5", "－１，０００"])
def test_a_negative_number_is_refused_by_name(field_class, typed):
    """A leading minus before digits is a negative number, never the "－" that means none."""
    [message] = refused(field_class(required=False), typed)
    assert "負の数は入力できません" in message


def test_a_negative_number_has_its_own_error_code():
    with pytest.raises(ValidationError) as raised:
        JapaneseIntegerField(required=False).clean("－１")
    assert raised.value.code == "negative"


# Text


class NoteForm(RefuseControlCharacters, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea)
    title = forms.CharField(required=False, max_length=20)
    count = JapaneseIntegerField(required=False)


CONTROL = "制御文字（改行・タブ以外）は入力できません。"


@pytest.mark.parametrize(
    "text",
    [
        "NUL\x00の後",
        "エスケープ\x1b[31m赤",
        "ベル\x07",
        "改ページ\x0cの後",
        "垂直タブ\x0bの後",
        "DEL\x7fの後",
        "C1\x85の後",
        "CRだけ\rの後",
    ],
    ids=repr,
)
@pytest.mark.parametrize("name", ["note", "title"])
def test_text_with_a_control_character_is_refused(text, name):
    form = NoteForm(data={name: text})
    assert form.errors == {name: [CONTROL]}


def test_nul_gets_the_control_character_message_only():
    """Django's own NUL message reads 「何か文字を入力してください。」, as if the field were empty."""
    form = NoteForm(data={"note": "理由\x00"})
    assert form.errors["note"] == [CONTROL]


@pytest.mark.parametrize("text", ["一行目\r\n二行目", "一行目\n二行目", "項目\t値", "普通の文章。＝＋－＠"], ids=repr)
def test_newlines_and_tabs_are_kept(text):
    form = NoteForm(data={"note": text})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["note"] == text


def test_number_fields_in_the_same_form_are_left_to_their_own_rules():
    form = NoteForm(data={"count": "1_000"})
    assert form.errors == {"count": ["整数を入力してください。"]}
