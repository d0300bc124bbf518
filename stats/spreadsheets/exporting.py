"""Export in the exchange format, streamed row by row (the downloadable template is in
template.py)."""

import csv
import io
import json
import tempfile
from decimal import Decimal

from ..formatting import format_decimal
from ..models import Category, Jurisdiction, Metric, Source
from ..periods import format_period
from .common import EXPORT_COLUMNS, FORMATS, neutralise

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
