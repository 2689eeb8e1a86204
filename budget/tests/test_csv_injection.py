"""CSV export: text that Excel would run as a formula comes out as plain text; everything else as it was."""

import csv
import io
from decimal import Decimal

import pytest

from budget.xlsx import Column, Report, to_csv

COLUMNS = [Column("施策"), Column("コメント"), Column("決算額", kind="amount"), Column("実績", kind="number")]

# Every way a cell can start a formula in Excel, ASCII and full-width (Japanese IMEs type the latter).
DANGEROUS = [
    '=HYPERLINK("http://example.com","詳細")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1:A2)",
]


def csv_text(rows):
    content = to_csv(Report(title="テスト", sheet="テスト", filename="test", columns=COLUMNS, rows=rows))
    assert content.startswith("\ufeff".encode())
    return content.decode("utf-8-sig")


def exported(rows):
    """The data rows as a CSV reader splits them (the header row left out)."""
    return list(csv.reader(io.StringIO(csv_text(rows))))[1:]


@pytest.mark.parametrize("text", DANGEROUS, ids=repr)
def test_text_that_starts_a_formula_is_neutralised(text):
    [row] = exported([("施策A", text, 1200, Decimal("78.5"))])
    assert row[1] == "'" + text  # a leading apostrophe: Excel shows the text and runs nothing
    assert row[0] == "施策A" and row[2] == "1200" and row[3] == "78.5"


def test_every_dangerous_cell_in_a_row_is_neutralised():
    [row] = exported([("=1+1", "＠SUM(A1:A2)", 5, 0)])
    assert row[:2] == ["'=1+1", "'＠SUM(A1:A2)"]


@pytest.mark.parametrize(
    "text",
    ["テレワークの推進", "R4 = 2022", "a-b", "e-mail@example.com", "100%", " 先頭が空白", "2行\r\n目", "タブ\t後", ""],
)
def test_harmless_text_is_unchanged(text):
    [row] = exported([("施策A", text, None, None)])
    assert row[1] == text


def test_numbers_stay_numbers_and_none_is_empty():
    rows = [("施策A", None, 0, Decimal("0.5")), ("施策B", "", 1234567, None)]
    assert exported(rows) == [["施策A", "", "0", "0.5"], ["施策B", "", "1234567", ""]]
    # Unquoted and without an apostrophe, so Excel reads them as numbers.
    assert csv_text(rows).splitlines()[1:] == ["施策A,,0,0.5", "施策B,,1234567,"]
