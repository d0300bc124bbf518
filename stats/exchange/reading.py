"""Reading an uploaded file (CSV, XLSX, JSON) into a dataset, with the checks on the file.

The result is a tablib Dataset, but the file is not parsed by tablib's (or import-export's)
own loaders, because each of them drops a guard this module keeps, and no wrapper around them
can put it back without parsing the file a second time:
- line numbers: tablib's CSV loader skips blank rows and its XLSX loader blank sheet rows
  without a trace, so a row's message could not name its line in the file;
- formulas: the XLSX loaders open the workbook with data_only=True, which turns a formula into
  its last calculated value (or nothing), so a formula could not be refused;
- the declared size: they iterate the sheet at the size it declares (a 2 KB file may declare
  A1:XFD1048576), where _sheet_rows resets it and refuses a row wider than MAX_SHEET_COLUMNS;
- ragged rows and keys: a CSV row longer than the header, or a JSON object with another
  number of keys, raises tablib's InvalidDimensions naming no line; and tablib's JSON loader
  takes each object's values in the order its keys are written, so {"b": 2, "a": 5} after
  {"a": 1, "b": 2} would put 2 under "a" without a word (checked with tablib 3.10).
"""

import csv
import io
import json
import zipfile
from collections import Counter
from decimal import Decimal

import tablib
from defusedxml import DefusedXmlException
from openpyxl import load_workbook

from stats.exchange.common import (
    FORMATS,
    UNNAMED,
    Formula,
    OutOfTime,
    UploadError,
    _megabytes,
    clean_text,
    max_bytes,
    max_rows,
    max_uncompressed_bytes,
    normalise_header,
)

MAX_SHEET_COLUMNS = 100  # the format has 18 columns; a sheet wider than this is refused

# --- Reading files -------------------------------------------------------------------------


def read_upload(name, content, budget=None):
    """Read an uploaded CSV, XLSX or JSON file into a Dataset with normalised headers.

    Raises UploadError with a clear message when the file cannot be imported at all.
    The dataset's `source_rows` attribute holds each row's line number in the file, and
    `file_name` and `content` what was read. In a CSV file, lines whose first cell starts with
    "#" are comments (the template's instructions) and are skipped. budget: a common.Budget,
    checked while a workbook's rows are read (OutOfTime).
    """
    extension = check_upload(name, content)
    if extension == "csv":
        rows = _read_csv(content)
    elif extension == "xlsx":
        rows = _read_xlsx(content, budget)
    else:
        rows = _read_json(content)
    if extension != "csv":  # a CSV's bytes are checked whole
        _refuse_nul(rows)
    dataset = _to_dataset(rows)
    dataset.file_name, dataset.content = name, content
    return dataset


def check_upload(name, content):
    """The quick checks of a file, before it is read (size, type, empty). Returns its
    extension; raises UploadError."""
    size = len(content)
    if size > max_bytes():
        raise UploadError(
            f"The file is {_megabytes(size)}; the limit is {_megabytes(max_bytes())}. "
            "Split it into smaller files."
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FORMATS:
        raise UploadError(
            f'"{name}" is not a CSV or Excel (.xlsx) file. Save the sheet as CSV UTF-8 or '
            "as an Excel workbook (.xlsx) and try again."
        )
    if not content.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UploadError("The file is empty.")
    if extension == "xlsx" and not zipfile.is_zipfile(io.BytesIO(content)):
        raise UploadError("The file cannot be read as an Excel workbook (.xlsx).")
    return extension


def _read_csv(content):
    if b"\x00" in content:  # anywhere: a NUL after the first lines is binary data too
        raise UploadError("The file is not a CSV text file (it holds binary data).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(
            "The file is not UTF-8 text. In Excel choose File > Save As > CSV UTF-8."
        ) from None
    try:
        return [
            (number, cells)
            for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
            if not (cells and cells[0].lstrip().startswith("#"))
        ]
    except csv.Error as e:
        raise UploadError(f"The CSV file cannot be read: {e}.") from None


def _read_xlsx(content, budget=None):
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UploadError("The file cannot be read as an Excel workbook (.xlsx).")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise UploadError("The file cannot be read as an Excel workbook (.xlsx).") from None
    if unpacked > max_uncompressed_bytes():
        raise UploadError(
            f"The workbook unpacks to {_megabytes(unpacked)}, more than the limit of "
            f"{_megabytes(max_uncompressed_bytes())}; it is refused as a possible zip bomb."
        )
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many kinds of error on a broken file
        reason = "it declares XML entities, which are not allowed" if _is_entity_error(e) else e
        raise UploadError(
            f"The file cannot be read as an Excel workbook (.xlsx): {reason}."
        ) from None
    try:
        sheets = {sheet.title.strip().lower(): sheet for sheet in book.worksheets}
        rows = _sheet_rows(sheets.get("observations") or book.worksheets[0], budget)
    except (UploadError, OutOfTime):
        raise
    except Exception as e:
        reason = "it declares XML entities, which are not allowed" if _is_entity_error(e) else e
        raise UploadError(
            f"The file cannot be read as an Excel workbook (.xlsx): {reason}."
        ) from None
    finally:
        book.close()
    return rows


def _sheet_rows(sheet, budget=None):
    """[(line, values)] of the sheet's non-blank rows. The size the sheet declares is not
    trusted (a 2 KB file may declare A1:XFD1048576): each row is as wide as its own last
    cell, and no wider than MAX_SHEET_COLUMNS."""
    sheet.reset_dimensions()
    rows = []
    limit = max_rows() + 1  # data rows, plus the header
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        if budget and number % 1000 == 0:
            budget.check()
        if len(cells) > MAX_SHEET_COLUMNS:
            raise UploadError(
                f"Row {number} has a cell beyond column {MAX_SHEET_COLUMNS}; a sheet may "
                f"use at most {MAX_SHEET_COLUMNS} columns. Delete the cells right of the "
                "figures and try again."
            )
        values = [_cell_value(cell) for cell in cells]
        if not any(v not in (None, "") for v in values):
            continue  # blank rows are skipped, and do not count towards the limit
        rows.append((number, values))
        if len(rows) > limit:
            break  # enough to report the file as too long
    return rows


def _cell_value(cell):
    """A cell's value; a number formatted as a percent (shown 22%, stored 0.22) as "22%";
    a formula as a Formula, which the row check reports."""
    value = cell.value
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value[:1] == "="):
        return Formula(str(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "%" in (getattr(cell, "number_format", None) or ""):
            return f"{Decimal(str(value)) * 100}%"
    return value


def _is_entity_error(error):
    seen = set()
    while error is not None and id(error) not in seen:  # openpyxl wraps the parser's error
        if isinstance(error, DefusedXmlException):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _read_json(content):
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise UploadError("The file cannot be read as JSON.") from None
    if isinstance(data, dict):
        data = data.get("observations", data.get("results"))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UploadError("A JSON file must hold a list of objects, one per observation.")
    headers = list(dict.fromkeys(key for item in data for key in item))
    rows = [(1, headers)]
    rows += [(n, [item.get(h) for h in headers]) for n, item in enumerate(data, start=2)]
    return rows


def _refuse_nul(rows):
    """A NUL character in a cell (an XLSX's _x0000_, a JSON's \\u0000) cannot be stored."""
    for number, values in rows:
        for column, value in enumerate(values, start=1):
            if isinstance(value, str) and "\x00" in value:
                raise UploadError(
                    f"Row {number}, column {column} holds a NUL character (binary data); "
                    "remove it and try again."
                )


def _columns_kept(raw_headers, body, width):
    """The columns with a header or any value (Excel's trailing empty columns dropped)."""
    return [
        i
        for i in range(width)
        if (i < len(raw_headers) and clean_text(raw_headers[i]))
        or any(i < len(v) and v[i] not in (None, "") for _, v in body)
    ]


def _check_rows(headers, body):
    """A header naming no column twice, and between one row and the limit below it."""
    duplicates = sorted(h for h, n in Counter(headers).items() if n > 1)
    if duplicates:
        raise UploadError(
            "The header names a column twice: " + ", ".join(f'"{h}"' for h in duplicates) + "."
        )
    if not body:
        raise UploadError(
            "The file has a header row but no data rows: add one row per figure below the "
            "header (the template itself holds none). Nothing was changed."
        )
    if len(body) > max_rows():
        raise UploadError(
            f"The file has more than {max_rows():,} rows, the limit. Split it into smaller files."
        )


def _to_dataset(rows):
    """Header from the first row; skip blank rows; check the row limit."""
    if not rows or not any(clean_text(v) for v in rows[0][1]):
        raise UploadError("The file is empty or its first row (the header) is blank.")
    raw_headers = list(rows[0][1])
    body = [(n, list(values)) for n, values in rows[1:] if any(v not in (None, "") for v in values)]
    width = max([len(raw_headers)] + [len(v) for _, v in body])
    keep = _columns_kept(raw_headers, body, width)
    headers = []
    for i in keep:
        header = normalise_header(raw_headers[i]) if i < len(raw_headers) else ""
        headers.append(header or f"{UNNAMED}{i + 1}")
    _check_rows(headers, body)
    dataset = tablib.Dataset(headers=headers)
    for _number, values in body:
        values = values + [None] * (width - len(values))
        dataset.append([values[i] for i in keep])
    dataset.source_rows = [n for n, _ in body]
    return dataset
