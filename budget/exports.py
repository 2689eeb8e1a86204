"""図表2-4-1 as an Excel workbook that a finance office can keep working in.

Figures are numeric cells in 千円 with #,##0; every total is a SUM formula,
so a correction typed into the workbook recomputes.
"""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from initiatives.fiscal import fiscal_year_label

AMOUNT_FORMAT = "#,##0"
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
FIRST_DATA_ROW = 5


def budget_table_workbook(plan, table):
    wb = Workbook()
    ws = wb.active
    ws.title = "図表2-4-1"
    ws["A1"] = f"{plan.title} 計画期間における経費（計画値）"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = "単位：千円"

    headings = [fiscal_year_label(year) for year in table.years] + ["計"]
    for index, heading in enumerate(headings):
        col = 2 + index * 2
        ws.cell(3, col, heading)
        ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 1)
        ws.cell(4, col, "経費")
        ws.cell(4, col + 1, "うち一般財源")
    ws.cell(3, 1, "区分")
    ws.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    last_col = 1 + len(headings) * 2
    for row in ws.iter_rows(min_row=3, max_row=4, max_col=last_col):
        for cell in row:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = BOX

    year_cols = len(table.years) * 2
    for offset, row in enumerate(table.rows):
        r = FIRST_DATA_ROW + offset
        ws.cell(r, 1, row.label)
        for index, cell in enumerate(row.cells):
            ws.cell(r, 2 + index * 2, cell.cost)
            ws.cell(r, 3 + index * 2, cell.general_fund)
        for kind in (0, 1):  # 経費, うち一般財源 across the years
            letters = [get_column_letter(2 + kind + i * 2) for i in range(len(table.years))]
            ws.cell(r, 2 + year_cols + kind, "=SUM({})".format(",".join(f"{c}{r}" for c in letters)))

    last_data = FIRST_DATA_ROW + len(table.rows) - 1
    total_row = last_data + 1
    ws.cell(total_row, 1, table.total.label)
    for col in range(2, last_col + 1):
        letter = get_column_letter(col)
        ws.cell(total_row, col, f"=SUM({letter}{FIRST_DATA_ROW}:{letter}{last_data})")

    for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=total_row, max_col=last_col):
        for cell in row:
            cell.border = BOX
            if cell.column > 1:
                cell.number_format = AMOUNT_FORMAT
            if cell.row == total_row:
                cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 14
    for col in range(2, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = 13
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 2)
    ws.print_title_rows = "3:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    out = BytesIO()
    wb.save(out)
    return out.getvalue()
