"""The XLSX export's sheet, cell for cell as openpyxl's write-only mode writes it.

The export writes the sheet's XML itself (openpyxl's object and XML element per cell took
most of a minute for 100,000 rows); the reference here is the openpyxl way it replaced.
"""

import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import IllegalCharacterError

from stats.exchange import EXPORT_COLUMNS
from stats.exchange.common import neutralise
from stats.exchange.exporting import NUMBER_COLUMNS, SHEET_PART, write_xlsx_rows

TEXTS = [
    "plain",
    "a & b < c > d",
    " \"quoted\" and 'apostrophes' ",
    "  leading spaces",
    "trailing newline\n",
    "   ",
    "line\r\nbreaks",
    "\tTab\r",
    "=1+2 excluded",
    '=HYPERLINK("http://x")',
    "+1",
    "-2 states",
    "@SUM(A1)",
    "=",
    "#N/A",
    "#DIV/0!",
    "'quoted already",
    "ünïcödé – 北京 – emoji 🙂",
    "x" * 40000,
]
NUMBERS = ["0", "233", "-4", "0.0001", "22.5", "1234567890.1234", "999999999999999"]
NUMBERS += ["12345678901234.5678", "-1234567890123456", "100000000000000.1"]


def row(**texts):
    values = dict.fromkeys(EXPORT_COLUMNS, "")
    values.update(jurisdiction="MO", metric="cases", period="2019", source="report-2019")
    values.update(texts)
    return values


def tricky_rows():
    rows = [row(value=n, numerator=n, denominator=n, rank=n) for n in NUMBERS]
    rows += [row(footnote=t, source_title=t, value="1") for t in TEXTS]
    rows += [row(**dict.fromkeys(EXPORT_COLUMNS, "")), row(breakdown="women", current="yes")]
    return rows


def openpyxl_sheet(rows):
    """The sheet as the export wrote it with openpyxl's write-only cells."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("observations")
    sheet.append(EXPORT_COLUMNS)
    for values in rows:
        cells = []
        for column in EXPORT_COLUMNS:
            text = values[column]
            if column in NUMBER_COLUMNS and text and len(text.replace(".", "")) <= 15:
                cells.append(WriteOnlyCell(sheet, Decimal(text)))
            else:
                cell = WriteOnlyCell(sheet, neutralise(text) or None)
                if cell.data_type == "f":
                    cell.data_type = "s"
                cells.append(cell)
        sheet.append(cells)
    file = io.BytesIO()
    book.save(file)
    return file.getvalue()


def exported(rows):
    file = io.BytesIO()
    write_xlsx_rows(iter(rows), file)
    return file.getvalue()


def parts(content):
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def test_the_sheet_is_byte_for_byte_what_openpyxl_wrote():
    rows = tricky_rows()
    ours, theirs = parts(exported(rows)), parts(openpyxl_sheet(rows))
    assert list(ours) == list(theirs)
    assert ours[SHEET_PART] == theirs[SHEET_PART]
    for name in ours:
        if name != "docProps/core.xml":  # the creation and modification times
            assert ours[name] == theirs[name], name


def test_a_long_export_is_the_same_too():
    # More rows than a written chunk and than the cache of cell texts holds.
    rows = [
        row(value=str(i), footnote=f"note {i % 300}", period=str(2000 + i % 20), rank=str(i))
        for i in range(12_345)
    ]
    assert parts(exported(rows))[SHEET_PART] == parts(openpyxl_sheet(rows))[SHEET_PART]


def test_the_sheet_reads_back_as_numbers_and_text():
    # Read as the importer reads it: read-only, so a row ends at its last cell that has a value.
    book = load_workbook(io.BytesIO(exported(tricky_rows())), read_only=True)
    width = len(EXPORT_COLUMNS)
    lines = book["observations"].iter_rows(values_only=True)
    rows = [line + (None,) * (width - len(line)) for line in lines]
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    values = [r[EXPORT_COLUMNS.index("value")] for r in rows[1:]]
    assert values[:4] == [0, 233, -4, 0.0001]
    assert "12345678901234.5678" in values and "'-1234567890123456" in values
    notes = [r[EXPORT_COLUMNS.index("footnote")] for r in rows[1:]]
    assert "'=1+2 excluded" in notes and "a & b < c > d" in notes and "x" * 32767 in notes
    cells = [c for line in book["observations"].iter_rows(min_row=2) for c in line]
    assert not [c for c in cells if getattr(c, "data_type", None) == "f"]
    book.close()


def test_a_control_character_is_refused_as_openpyxl_refuses_it():
    with pytest.raises(IllegalCharacterError):
        exported([row(footnote="bell\x07")])


def test_no_rows_is_the_header_alone():
    rows = list(load_workbook(io.BytesIO(exported([]))).active.iter_rows(values_only=True))
    assert rows == [tuple(EXPORT_COLUMNS)]
