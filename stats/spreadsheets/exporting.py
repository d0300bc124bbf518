"""Export in the exchange format, and the downloadable template."""

import csv
import io
import json
from decimal import Decimal

from ..formatting import format_decimal
from ..models import (
    Metric,
    Observation,
    Source,
)
from .common import COLUMNS, EXPORT_COLUMNS, FORMATS, neutralise
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


# --- The downloadable template -------------------------------------------------------------

COLUMN_HELP = {
    "jurisdiction": (
        "Required. Jurisdiction code, as listed under Statistics > Jurisdictions: US, a state's "
        "postal code, a federal district, HHS7 ..."
    ),
    "metric": "Required. The metric's slug, as listed under Statistics > Metrics.",
    "period": "Required. A year (2019) or a span of months (2012-12/2016-12), 1990 to next year.",
    "breakdown": (
        "Optional. A category of the metric's breakdown (its slug or label); empty for the total."
    ),
    "value": (
        "Required. The published figure. Counts are whole numbers; percents lie in 0 to 100 "
        '(22.5 or "22.5%"); ranks lie in 1 to 56. "1,234" is read as 1234.'
    ),
    "numerator": "Optional. For an 'n of m' figure: n. Never above the denominator.",
    "denominator": "Optional. For an 'n of m' figure: m. Give both or neither.",
    "rank": "Optional. The published national rank (1 to 56), as printed.",
    "footnote": "Optional. Exclusions and caveats, as published.",
    "source": "Required. The source edition's slug, as listed under Statistics > Sources.",
}


def template_file(fmt):
    """The import template: header row and an example row; in XLSX, a sheet about columns."""
    example_metric = Metric.objects.order_by("slug").values_list("slug", flat=True).first()
    example_source = Source.objects.order_by("-edition_year").values_list("slug", flat=True).first()
    example_place = (
        Observation.objects.filter(jurisdiction__kind="state")
        .values_list("jurisdiction__code", flat=True)
        .first()
    )
    example = {
        "jurisdiction": example_place or "US",
        "metric": example_metric or "metric-slug",
        "period": "2019",
        "breakdown": "",
        "value": "233",
        "numerator": "",
        "denominator": "",
        "rank": "",
        "footnote": "",
        "source": example_source or "source-edition-slug",
    }
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerow(example[c] for c in COLUMNS)
        return ("\ufeff" + out.getvalue()).encode()
    if fmt != "xlsx":
        raise ValueError(f"Unknown template format {fmt!r}.")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "observations"
    sheet.append(COLUMNS)
    sheet.append([example[c] if c != "value" else 233 for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    about = book.create_sheet("columns")
    about.append(["column", "what to write"])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        about.append([column, COLUMN_HELP[column]])
    about.append([])
    about.append(
        [
            "notes",
            "One row per observation. Headers may use any case and spacing. Only the first "
            "sheet, or a sheet named 'observations', is read. Formulas are refused: paste "
            "values. Replace the example row with your figures.",
        ]
    )
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
