"""和暦 fiscal years and 千円 amounts: the one place that decides how they read.

A Japanese fiscal year (年度) runs April to March and is named after the
calendar year it starts in, so FY2023 is 令和5年度. Pages, exports and the API
all call these functions, never format years or amounts themselves.
"""

from decimal import Decimal

# (first Western fiscal year of the era, short letter, name). FY2019 is called
# 令和元年度 although Reiwa began in May; FY1989 likewise 平成元年度. Years before
# 1989 are outside every plan (the models' sanity range starts there).
ERAS = (
    (2019, "R", "令和"),
    (1989, "H", "平成"),
)

NONE_MARK = "－"


def era_year(year):
    """Return (letter, era name, year of era) for a Western fiscal year."""
    for first, letter, name in ERAS:
        if year >= first:
            return letter, name, year - first + 1
    raise ValueError(f"{year} 年度は対応する元号がありません。")


def fiscal_year_short(year):
    """'R5' for 2023: column headings where space is short."""
    letter, _, number = era_year(year)
    return f"{letter}{number}"


def fiscal_year_label(year):
    """'R5（2023）年度' for 2023: how the portal names a fiscal year."""
    return f"{fiscal_year_short(year)}（{year}）年度"


# Review periods (Plan.review_cycle): a whole year, or its halves. 上期 is April to September, 下期 October to March.
PERIODS = {"": "", "H1": "上期", "H2": "下期"}


def period_label(year, period=""):
    """'R7（2025）年度 上期' (or the year alone for a yearly review)."""
    half = PERIODS[period]
    return f"{fiscal_year_label(year)} {half}" if half else fiscal_year_label(year)


def fiscal_year_long(year):
    """'令和5（2023）年度', for titles of printed reports."""
    _, name, number = era_year(year)
    return f"{name}{'元' if number == 1 else number}（{year}）年度"


def format_amount(value):
    """千円 amounts with separators; None (the plan's "－") stays visibly distinct from 0."""
    if value is None or value == "":  # "" is what a template makes of a missing row
        return NONE_MARK
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return f"{value:,}"


def counted(amount):
    """ "－" (None) counts as 0 in a total, as in the plan's own tables (and Excel's SUM)."""
    return amount or 0


def add_amount(total, amount):
    """A running total of amounts that may not be recorded yet: "－" adds nothing, and a total of
    nothing but "－" stays "－" (None), so "nothing spent yet" never reads as 0."""
    if amount is None:
        return total
    return counted(total) + amount


def format_number(value):
    """KPI figures: separators, no trailing zeros (72.5, 98,500, 0)."""
    if value is None or value == "":
        return NONE_MARK
    if isinstance(value, str):
        return value  # a text target or actual, shown as written
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def fiscal_year_of(day):
    """The fiscal year a date falls in (April to March)."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_closed(year, today):
    """A fiscal year closes on 31 March of the next calendar year."""
    return fiscal_year_of(today) > year
