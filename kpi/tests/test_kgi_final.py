"""The KGI over the whole plan period (kpi.achievement.kgi_result), one case per KGI shape, against
達成度 worked out by hand."""

from decimal import Decimal

import pytest

from kpi.achievement import kgi_result
from kpi.models import Direction, Kgi

END = 2025


def kgi(target, direction=Direction.HIGHER, cumulative=False, text=""):
    return Kgi(
        text="KGI", indicator="指標", target=target, target_text=text, direction=direction, is_cumulative=cumulative
    )


def years(**values):
    """{year: (actual, judged grade)} from r4=…, r5=… (R4 = 2022)."""
    out = {}
    for key, value in values.items():
        year = 2018 + int(key[1:])
        out[year] = value if isinstance(value, tuple) else (None if value is None else Decimal(str(value)), "")
    return out


@pytest.mark.parametrize(
    "case, shape, recorded, expected",
    [
        # 累計 20業務: the running total at the end, 18 ÷ 20 = 90.0% → B
        (
            "cumulative",
            kgi(20, cumulative=True),
            years(r4=0, r5=5, r6=12, r7=18),
            ("rated", "90.0", "B", 18, 2025, False),
        ),
        # 40%: the final year's 44 ÷ 40 = 110.0% → S
        ("level", kgi(40), years(r5=30, r6=38, r7=44), ("rated", "110.0", "S", 44, 2025, False)),
        # the final year not entered: R5's 30 ÷ 40 = 75.0% → C, provisional
        ("provisional", kgi(40), years(r4=20, r5=30, r7=None), ("rated", "75.0", "C", 30, 2023, True)),
        # 30%減: the reduction reached at the end, 24 ÷ 30 = 80.0% → B
        ("reduction", kgi(30, Direction.REDUCTION), years(r6=10, r7=24), ("rated", "80.0", "B", 24, 2025, False)),
        # 0件: the worst year had 2, so the period missed a 0 target → 0.0% → D
        ("lower, zero", kgi(0, Direction.LOWER), years(r4=0, r5=2, r6=0, r7=0), ("rated", "0.0", "D", 2, 2023, False)),
        # 4件以下: the worst year had 5, 4 ÷ 5 = 80.0% → B
        ("lower", kgi(4, Direction.LOWER), years(r6=5, r7=3), ("rated", "80.0", "B", 5, 2024, False)),
        # every year kept 0件: 100.0% → A
        (
            "lower, kept",
            kgi(0, Direction.LOWER),
            years(r4=0, r5=0, r6=0, r7=0),
            ("rated", "100.0", "A", 0, 2025, False),
        ),
        # a text KGI: the final year's judgement
        (
            "text",
            kgi(None, text="全窓口"),
            years(r6=(None, "B"), r7=(None, "A")),
            ("judged", None, "A", None, 2025, False),
        ),
        ("text, provisional", kgi(None, text="全窓口"), years(r6=(None, "B")), ("judged", None, "B", None, 2024, True)),
        ("text, unjudged", kgi(None, text="全窓口"), years(r7=(None, "")), ("unjudged", None, "", None, None, False)),
        ("no actuals", kgi(40), years(r7=None), ("missing", None, "", None, None, False)),
        ("no target", kgi(None), years(r7=1), ("no_target", None, "", None, None, False)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_kgi_over_the_period(case, shape, recorded, expected):
    result = kgi_result(shape, recorded, END)
    state, rate, grade, value, year, provisional = expected
    assert result.assessment.state == state
    assert result.assessment.rate == (Decimal(rate) if rate else None)
    assert result.assessment.grade == grade
    assert result.value == (Decimal(value) if value is not None else None)
    assert (result.basis_year, result.provisional) == (year, provisional)
