"""Export in the exchange format (the downloadable template is in template.py)."""

import csv
import io
import json
from decimal import Decimal

from ..formatting import format_decimal
from .common import EXPORT_COLUMNS, FORMATS, neutralise
from .resource import ObservationResource

# --- Export --------------------------------------------------------------------------------


def export_dataset(observations, fmt):
    """Observations (a queryset or a list) as bytes in csv, xlsx or json."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if hasattr(observations, "for_display"):
        observations = observations.for_display()
    dataset = ObservationResource().export(queryset=observations)
    rows = [dict(zip(dataset.headers, map(_cell, row), strict=True)) for row in dataset]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(neutralise(row[c]) for c in EXPORT_COLUMNS)
        return ("\ufeff" + out.getvalue()).encode()
    return _xlsx(rows)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


NUMBER_COLUMNS = ("value", "numerator", "denominator", "rank")


def _xlsx(rows):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("observations")
    sheet.append(EXPORT_COLUMNS)
    for row in rows:
        cells = []
        for column in EXPORT_COLUMNS:
            text = row[column]
            if column in NUMBER_COLUMNS and text and len(text.replace(".", "")) <= 15:
                # The file holds the exact decimal text, and a double reads it back exactly.
                cells.append(WriteOnlyCell(sheet, Decimal(text)))
            else:
                cell = WriteOnlyCell(sheet, neutralise(text) or None)
                if cell.data_type == "f":
                    cell.data_type = "s"
                cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
