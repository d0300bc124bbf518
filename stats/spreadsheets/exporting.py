"""Export in the exchange format, streamed row by row, and the downloadable template."""

import csv
import io
import json
import tempfile
from decimal import Decimal

from ..formatting import format_decimal
from ..models import Category, Jurisdiction, Metric, Observation, Source
from ..periods import format_period
from .common import COLUMNS, EXPORT_COLUMNS, FORMATS, neutralise

# --- Export --------------------------------------------------------------------------------

CHUNK_ROWS = 2000  # rows read from the database at a time, and written per chunk
FIELDS = (
    "metric_id",
    "jurisdiction_id",
    "period_start",
    "period_end",
    "breakdown_id",
    "value",
    "numerator",
    "denominator",
    "rank",
    "footnote",
    "source_id",
    "is_current",
)


class _Names:
    """The small tables a row refers to, read once per export (not joined on every row)."""

    def __init__(self):
        self.metrics = Metric.objects.in_bulk()
        self.places = dict(Jurisdiction.objects.values_list("pk", "code"))
        self.categories = dict(Category.objects.values_list("pk", "slug"))
        self.sources = Source.objects.in_bulk()


def _text(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


def _row(names, fields):
    (metric_id, place_id, start, end, breakdown_id, value, numerator, denominator, rank,
     footnote, source_id, is_current) = fields  # fmt: skip
    metric, source = names.metrics[metric_id], names.sources[source_id]
    return {
        "jurisdiction": names.places[place_id],
        "metric": metric.slug,
        "period": format_period(start, end),
        "breakdown": names.categories.get(breakdown_id, ""),
        "value": _text(value),
        "numerator": _text(numerator),
        "denominator": _text(denominator),
        "rank": _text(rank),
        "footnote": footnote,
        "source": source.slug,
        "metric_label": metric.label,
        "unit": metric.unit,
        "current": "yes" if is_current else "no",
        "source_edition": source.edition,
        "source_citation": source.citation,
        "source_title": source.title,
        "source_publisher": source.publisher,
        "source_url": source.url,
    }


def export_rows(observations):
    """Each observation (a queryset, streamed in chunks, or a list) as a dict of texts."""
    names = _Names()
    if hasattr(observations, "values_list"):
        rows = observations.values_list(*FIELDS).iterator(chunk_size=CHUNK_ROWS)
    else:
        rows = ([getattr(o, f) for f in FIELDS] for o in observations)
    for fields in rows:
        yield _row(names, fields)


def _chunks(rows, size=CHUNK_ROWS):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_csv(observations):
    """The CSV file in pieces of bytes (UTF-8 with a byte-order mark, for Excel)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    yield ("\ufeff" + out.getvalue()).encode()
    for chunk in _chunks(export_rows(observations)):
        out.seek(0)
        out.truncate()
        writer.writerows([neutralise(row[c]) for c in EXPORT_COLUMNS] for row in chunk)
        yield out.getvalue().encode()


def stream_json(observations):
    """The JSON file (a list of objects, one per observation) in pieces of bytes."""
    yield b"["
    first = True
    for chunk in _chunks(export_rows(observations)):
        text = ",".join("\n" + json.dumps(row, ensure_ascii=False) for row in chunk)
        yield (text if first else "," + text).encode()
        first = False
    yield b"\n]\n"


NUMBER_COLUMNS = ("value", "numerator", "denominator", "rank")


def write_xlsx(observations, file):
    """Write the XLSX file to a binary file object, with openpyxl's write-only mode: rows go
    to disk as they are written, so memory does not grow with the number of rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("observations")
    sheet.append(EXPORT_COLUMNS)
    for row in export_rows(observations):
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
    book.save(file)


def xlsx_file(observations):
    """The XLSX file as an open temporary file, at its start (deleted when closed)."""
    file = tempfile.TemporaryFile()
    try:
        write_xlsx(observations, file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def export_stream(observations, fmt):
    """The file in pieces of bytes: CSV and JSON as rows are read, XLSX once written."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if fmt == "csv":
        return stream_csv(observations)
    if fmt == "json":
        return stream_json(observations)
    return _read_file(xlsx_file(observations))


def _read_file(file, size=64 * 1024):
    with file:
        while piece := file.read(size):
            yield piece


def export_dataset(observations, fmt):
    """Observations (a queryset or a list) as bytes in csv, xlsx or json."""
    return b"".join(export_stream(observations, fmt))


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
