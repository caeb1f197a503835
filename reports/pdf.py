"""An operation's report as a PDF (fpdf2): its first line, the period, the units and the board's table."""

from fpdf import FPDF

from reports.exports import OPERATION_HEADER, operation_rows


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")  # the core fonts are Latin-1


def operation_pdf(operation, board: dict) -> bytes:
    pdf = FPDF(orientation="landscape")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, _latin(f"Operation: {operation.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in (board["headline"],
                 f"From {operation.starts_at:%Y-%m-%d %H:%M} to {operation.ends_at:%Y-%m-%d %H:%M} UTC; "
                 + (f"closed {operation.closed_at:%Y-%m-%d %H:%M} UTC." if operation.closed_at else "still open."),
                 "Units: " + (", ".join(operation.units.splitlines()) or "none named")):
        pdf.multi_cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _, rows = operation_rows(board)
    with pdf.table(col_widths=(40, 20, 20, 20, 25, 20, 20, 30, 40), text_align="LEFT") as table:
        table.row([h.replace("_", " ") for h in OPERATION_HEADER])
        for row in rows:
            table.row([_latin(str(v)) for v in row])
    return bytes(pdf.output())
