"""The PDCA forms refuse control characters in every text box, and NUL gets a message that says why."""

import pytest

from kpi.forms import CommentForm, GridRowForm, MeasureYearForm
from kpi.models import MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025
CONTROL = "制御文字（改行・タブ以外）は入力できません。"
TEXT_FIELDS = ["work_done", "evaluation_comment", "improvement_text", "kpi_actual_text"]


def record(measure):
    # An earlier text actual keeps kpi_actual_text on the form although the target is a number.
    return MeasureYear(measure=measure, fiscal_year=YEAR, kpi_actual_text="以前の記録")


@pytest.mark.parametrize("name", TEXT_FIELDS)
@pytest.mark.parametrize("text", ["報告\x00", "報告\x1b[2J", "報告\x7fです", "報告\x9bです"], ids=repr)
def test_entry_form_refuses_control_characters(measure, name, text):
    form = MeasureYearForm({"seen_version": 0, name: text}, instance=record(measure))
    assert name in form.fields
    assert form.errors[name] == [CONTROL]


def test_entry_form_keeps_newlines_and_tabs(measure):
    texts = {"work_done": "講座を開催\r\n12回", "evaluation_comment": "目標\t達成", "improvement_text": "継続\n拡充"}
    form = MeasureYearForm({"seen_version": 0, **texts}, instance=MeasureYear(measure=measure, fiscal_year=YEAR))
    assert not any(name in form.errors for name in texts), form.errors
    assert {name: form.cleaned_data[name] for name in texts} == texts


@pytest.mark.parametrize("name", ["work_done", "evaluation_comment"])
def test_grid_row_refuses_control_characters(measure, name):
    form = GridRowForm({"seen_version": 0, name: "報告\x00"}, instance=MeasureYear(measure=measure, fiscal_year=YEAR))
    assert form.errors[name] == [CONTROL]


def test_comment_refuses_control_characters():
    form = CommentForm({"comment": "差し戻し\x00理由", "seen_version": 0})
    assert form.errors == {"comment": [CONTROL]}


def test_comment_with_newlines_is_accepted():
    form = CommentForm({"comment": "一点目\r\n二点目", "seen_version": 0})
    assert form.is_valid(), form.errors
