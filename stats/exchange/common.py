"""What every part of the spreadsheet exchange shares: columns, limits, cleaning of cells."""

import difflib
import re
import time
from decimal import Decimal

from django.conf import settings

KEY_COLUMNS = ("jurisdiction", "metric", "period", "breakdown", "source")
REQUIRED_COLUMNS = ("jurisdiction", "metric", "period", "value", "source")
COLUMNS = (
    "jurisdiction",
    "metric",
    "period",
    "breakdown",
    "value",
    "numerator",
    "denominator",
    "rank",
    "footnote",
    "footnote_es",
    "source",
)
# What a reader needs to use a row on its own; the importer reads past them.
EXPORT_ONLY_COLUMNS = (
    "metric_label",
    "unit",
    "current",
    "source_edition",
    "source_citation",
    "source_title",
    "source_publisher",
    "source_url",
)
EXPORT_COLUMNS = COLUMNS + EXPORT_ONLY_COLUMNS
FIGURE_FIELDS = ("value", "numerator", "denominator", "rank", "footnote", "footnote_es")
TEXT_COLUMNS = ("footnote", "footnote_es")
NUMBER_COLUMNS = ("value", "numerator", "denominator", "rank")
# The exchange formats, each with the content type it is served as.
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
FORMATS = tuple(CONTENT_TYPES)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_DIGITS, DECIMAL_PLACES = 18, 4
UNNAMED = "__column_"  # header of a column that has values but no name
MAX_STORED_MESSAGES = 2000  # per import record; the counts give the totals

_SPACES = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff]+")
# ASCII digits only: "١٢", "１２", "1_000" and "1e3" are not numbers in a spreadsheet of figures.
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$|^-?\.[0-9]+$")
_THOUSANDS = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")


class UploadError(ValueError):
    """A file that cannot be imported at all. `messages` lists every reason."""

    def __init__(self, messages):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


class OutOfTime(Exception):
    """A check or import ran past its time budget (STATS_IMPORT_TIME_BUDGET): stopped."""


class Budget:
    """The time a task may take: check() raises OutOfTime once it has run out."""

    def __init__(self, seconds=None):
        self.seconds = settings.STATS_IMPORT_TIME_BUDGET if seconds is None else seconds
        self.ends = time.monotonic() + self.seconds

    def check(self):
        if time.monotonic() > self.ends:
            raise OutOfTime(self.seconds)


def max_bytes():
    return settings.STATS_IMPORT_MAX_BYTES


def max_rows():
    return settings.STATS_IMPORT_MAX_ROWS


def max_text_length():
    """The longest footnote (or other text cell) an import accepts, in characters."""
    return getattr(settings, "STATS_IMPORT_MAX_TEXT_LENGTH", 2000)


class Formula:
    """A spreadsheet cell holding a formula: reported as an error of its row and column."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def max_uncompressed_bytes():
    return settings.STATS_IMPORT_MAX_UNCOMPRESSED_BYTES


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f} MB"


def clean_text(value):
    """Normalise a cell to text: stray, non-breaking and repeated spaces become one space."""
    if value is None:
        return ""
    if isinstance(value, str) and value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()  # the common case, without the regular expression
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", str(value)).strip()


_CANONICAL = {c.replace("_", ""): c for c in EXPORT_COLUMNS}


def normalise_header(value):
    """Header text to a column name, ignoring case and spacing: "Break Down" -> "breakdown"."""
    text = re.sub(r"[\s_\-]+", "_", clean_text(value).lower()).strip("_")
    return _CANONICAL.get(text.replace("_", ""), text)


# --- Parsing cells -------------------------------------------------------------------------


def parse_number(value, *, percent_ok=False):
    """A Decimal from a cell: accepts 1234, "1,234", " 22% " (when percent_ok).

    Only ASCII digits, one optional minus sign and one decimal point make a number; "-0" is
    refused (write 0)."""
    if isinstance(value, bool):
        raise ValueError(f'"{value}" is not a number.')
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        text = clean_text(value)
        if text.endswith("%"):
            if not percent_ok:
                raise ValueError(f'"{text}" has a percent sign, but this figure is not a percent.')
            text = text[:-1].strip()
        text = text.replace(" ", "")
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        if not _NUMBER.match(text):
            raise ValueError(f'"{clean_text(value)}" is not a number.')
        number = Decimal(text)
    if not number.is_finite():
        raise ValueError(f'"{clean_text(value)}" is not a number.')
    if number.is_zero() and number.is_signed():
        raise ValueError(f'"{clean_text(value)}" is not a number; write 0.')
    if number.as_tuple().exponent < -DECIMAL_PLACES:
        normal = number.normalize()
        if normal.as_tuple().exponent < -DECIMAL_PLACES:
            raise ValueError(f"{number} has more than {DECIMAL_PLACES} decimal places.")
        number = normal
    if abs(number) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
        raise ValueError(f"{number} is too large.")
    return number


def _closest(value, choices):
    """' Did you mean "X"?' for the closest of choices (a {candidate: shown} dict), or ''."""
    if len(value) > 100:  # no name in the store is that long
        return ""
    matches = difflib.get_close_matches(value.lower(), list(choices), n=1, cutoff=0.6)
    return f" Did you mean {choices[matches[0]]}?" if matches else ""


def neutralise(text):
    """Stop a spreadsheet from reading exported text as a formula."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def unneutralise(text):
    """Undo neutralise on import, so an export imports back to the same text."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text
