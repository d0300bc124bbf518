"""Export in the exchange format, streamed row by row (the downloadable template is in
template.py)."""

import csv
import io
import json
import tempfile
import zipfile
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

from stats.exchange.common import EXPORT_COLUMNS, FORMATS, NUMBER_COLUMNS, neutralise
from stats.exchange.resource import ObservationResource
from stats.models import Category, Jurisdiction, Metric, Source, StateSourceText

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
    "footnote_es",
    "source_id",
    "is_current",
)


class _Names:
    """The small tables a row refers to, read once per export (not joined on every row)."""

    def __init__(self, state=None):
        self.metrics = Metric.objects.in_bulk()
        self.places = Jurisdiction.objects.in_bulk()
        self.categories = Category.objects.in_bulk()
        self.sources = Source.objects.in_bulk()
        if state is not None:
            # A state's site cites each shared edition in that state's words (its summary).
            for words in StateSourceText.objects.filter(jurisdiction=state):
                self.sources[words.source_id] = self.sources[words.source_id].for_state(words)

    def row(self, fields):
        """An observation read as a tuple of FIELDS, as ObservationResource reads a row."""
        (metric_id, place_id, start, end, breakdown_id, value, numerator, denominator, rank,
         footnote, footnote_es, source_id, is_current) = fields  # fmt: skip
        return {
            "jurisdiction": self.places[place_id],
            "metric": self.metrics[metric_id],
            "period_bounds": (start, end),
            "breakdown": self.categories.get(breakdown_id),
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "rank": rank,
            "footnote": footnote,
            "footnote_es": footnote_es,
            "source": self.sources[source_id],
            "is_current": is_current,
        }


def export_rows(observations, state=None):
    """Each observation (a queryset, streamed in chunks, or a list) as a dict of texts, one
    by column: its row of ObservationResource; its source in `state`'s words when given."""
    names, texts = _Names(state), ObservationResource().row_exporter()
    if hasattr(observations, "values_list"):
        rows = observations.values_list(*FIELDS).iterator(chunk_size=CHUNK_ROWS)
    else:
        rows = ([getattr(o, f) for f in FIELDS] for o in observations)
    for fields in rows:
        yield texts(names.row(fields))


def _chunks(rows, size=CHUNK_ROWS):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_csv(observations, state=None):
    """The CSV file in pieces of bytes (UTF-8 with a byte-order mark, for Excel)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    yield ("\ufeff" + out.getvalue()).encode()
    for chunk in _chunks(export_rows(observations, state)):
        out.seek(0)
        out.truncate()
        writer.writerows([neutralise(row[c]) for c in EXPORT_COLUMNS] for row in chunk)
        yield out.getvalue().encode()


def stream_json(observations, state=None):
    """The JSON file (a list of objects, one per observation) in pieces of bytes."""
    yield b"["
    first = True
    for chunk in _chunks(export_rows(observations, state)):
        text = ",".join("\n" + json.dumps(row, ensure_ascii=False) for row in chunk)
        yield (text if first else "," + text).encode()
        first = False
    yield b"\n]\n"


SHEET_PART = "xl/worksheets/sheet1.xml"
XLSX_MAX_TEXT = 32767  # the longest text a cell holds; openpyxl cuts longer ones
# The cell XML kept for reuse: so many distinct texts per kind of cell, none longer than this.
CACHED_CELLS, CACHED_LENGTH = 10000, 200


def _sheet_rows(rows):
    """The sheet XML of each row (a dict of texts) from the second on, cell for cell as
    openpyxl's write-only mode writes it: numbers as numbers, text as inline strings (never a
    formula), empty cells left out. Without openpyxl's object and XML element per cell, which
    took most of a minute for 100,000 rows."""

    def number_cell(text):
        if len(text.replace(".", "")) > 15:
            return text_cell(text)  # kept exact, as text
        # A double reads the decimal text back exactly.
        return f'" t="n"><v>{float(text):.16g}</v></c>'

    def text_cell(text):
        text = neutralise(text)[:XLSX_MAX_TEXT]
        if ILLEGAL_CHARACTERS_RE.search(text):
            raise IllegalCharacterError(f"{text} cannot be used in worksheets.")
        if text in ERROR_CODES:  # "#N/A" and the like: an error value, as in openpyxl
            return f'" t="e"><v>{text}</v></c>'
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and stripped != text else ""
        return f'" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'

    # A cell's XML after its reference, by text: most texts repeat (codes, labels, sources).
    made = {number_cell: {}, text_cell: {}}
    columns = []  # (name, the cell's XML up to its row number, how its XML is made)
    for index, name in enumerate(EXPORT_COLUMNS, start=1):
        make = number_cell if name in NUMBER_COLUMNS else text_cell
        columns.append((name, f'<c r="{get_column_letter(index)}', make))
    for number, row in enumerate(rows, start=2):
        n = str(number)
        cells = [f'<row r="{n}">']
        for name, start, make in columns:
            text = row[name]
            if not text:
                continue
            known = made[make]
            cell = known.get(text)
            if cell is None:
                cell = make(text)
                if len(known) < CACHED_CELLS and len(text) <= CACHED_LENGTH:
                    known[text] = cell
            cells.append(start + n + cell)
        cells.append("</row>")
        yield "".join(cells)


def write_xlsx(observations, file, state=None):
    """Write the XLSX file to a binary file object, streamed: memory does not grow with the
    number of rows."""
    write_xlsx_rows(export_rows(observations, state), file)


def write_xlsx_rows(rows, file):
    """Write rows (dicts of texts, as export_rows makes them) as an XLSX file: the workbook's
    parts as openpyxl writes them (the sheet with its header row), and the other rows
    streamed into the sheet's part of the zip as they come."""
    book = Workbook(write_only=True)
    book.create_sheet("observations").append(EXPORT_COLUMNS)
    package = io.BytesIO()
    book.save(package)
    with (
        zipfile.ZipFile(package) as parts,
        zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in parts.infolist():
            data = parts.read(info)
            if info.filename != SHEET_PART:
                out.writestr(info, data)
                continue
            # openpyxl's sheet up to the end of its header row, then ours, then its tail.
            head, end, tail = data.partition(b"</sheetData>")
            if not end:
                raise ValueError(f"openpyxl wrote {SHEET_PART} without a <sheetData>.")
            with out.open(info, "w") as sheet:
                sheet.write(head)
                for chunk in _chunks(_sheet_rows(rows)):
                    sheet.write("".join(chunk).encode())
                sheet.write(end + tail)


def xlsx_file(observations, state=None):
    """The XLSX file as an open temporary file, at its start (deleted when closed)."""
    file = tempfile.TemporaryFile()
    try:
        write_xlsx(observations, file, state)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def export_stream(observations, fmt, state=None):
    """The file in pieces of bytes: CSV and JSON as rows are read, XLSX once written; the
    sources in `state`'s words (a state site's downloads)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if fmt == "csv":
        return stream_csv(observations, state)
    if fmt == "json":
        return stream_json(observations, state)
    return _read_file(xlsx_file(observations, state))


def _read_file(file, size=64 * 1024):
    with file:
        while piece := file.read(size):
            yield piece


def export_dataset(observations, fmt):
    """Observations (a queryset or a list) as bytes in csv, xlsx or json."""
    return b"".join(export_stream(observations, fmt))
