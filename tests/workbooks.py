"""Read an exported workbook back the way Excel would: formulas evaluated."""

import tempfile
from pathlib import Path

import formulas
import openpyxl


def evaluate(content, sheet):
    """Return {cell: value} for one sheet with every formula computed (the `formulas` package)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.xlsx"
        path.write_bytes(content)
        solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    prefix = f"'[BOOK.XLSX]{sheet.upper()}'!"
    values = {}
    for key, ranges in solution.items():
        if key.upper().startswith(prefix):
            value = ranges.value[0][0]
            values[key[len(prefix) :]] = value.item() if hasattr(value, "item") else value
    return values


def load(content):
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
        f.write(content)
        f.flush()
        return openpyxl.load_workbook(f.name)
