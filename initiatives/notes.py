"""The plan's notes on its KPI and LCC cells, as every report shows them.

A cell of the plan may carry a note (kpi.KpiTarget.note, budget.PlannedCost.note): a footnote mark such as
"※2", whose text is one of the measure's notes (Measure.notes, "※2 国民健康保険については…"), or a word the
plan prints beside the figure ("試行"). A report shows a measure's noted cells in one 注記 cell, on the row of
the measure, with the text of each mark under them, so the row reads on paper without a look-up:

    KPI目標 R4〜R6：※2、R7：※3
    LCC R4〜R7：※4
    ※2 国民健康保険については、…
"""

import re

from .fiscal import fiscal_year_short
from .models import paragraphs

# what a noted cell is called in the 注記
KPI_TARGET = "KPI目標"
LCC = "LCC"

# "※2", "※ 2", "*2", "＊2" (the plan's extraction writes the same footnote several ways)
MARK = re.compile(r"\s*[※＊*]\s*(\d+)")


def mark_of(note):
    """'※2' for a footnote mark in any of its spellings; None for a note that is not one ('試行')."""
    found = MARK.match(note or "")
    return f"※{found.group(1)}" if found else None


def footnotes(notes):
    """{mark: footnote text} of a measure's notes (Measure.notes, one a paragraph)."""
    found = {}
    for paragraph in paragraphs(notes or ""):
        mark = mark_of(paragraph)
        if mark and mark not in found:
            found[mark] = f"{mark} {MARK.sub('', paragraph, count=1).strip()}"
    return found


def _runs(cells):
    """[(first year, last year, note)] of consecutive years with the same note."""
    runs = []
    for year, note in cells:
        if runs and runs[-1][2] == note and runs[-1][1] + 1 == year:
            runs[-1][1] = year
        else:
            runs.append([year, year, note])
    return runs


def _years(first, last):
    return fiscal_year_short(first) if first == last else f"{fiscal_year_short(first)}〜{fiscal_year_short(last)}"


def notes_cell(cells, notes):
    """The 注記 text of one measure: ``cells`` are (what, fiscal year, note) of its noted cells in order, e.g.
    ("KPI目標", 2025, "※3"); ``notes`` is the measure's Measure.notes. Empty when nothing is noted."""
    by_what = {}
    for what, year, note in cells:
        if note:
            by_what.setdefault(what, []).append((year, note))
    lines = [
        f"{what} " + "、".join(f"{_years(first, last)}：{note}" for first, last, note in _runs(sorted(noted)))
        for what, noted in by_what.items()
    ]
    texts = footnotes(notes)
    marks = dict.fromkeys(mark_of(note) for noted in by_what.values() for _, note in noted)
    lines += [texts[mark] for mark in marks if mark in texts]
    return "\n".join(lines)
