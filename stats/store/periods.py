"""Periods of observations: a calendar year ("2019") or a span of months ("2012-12/2016-12")."""

import calendar
import datetime
import re

from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

FIRST_YEAR = 1990

_YEAR = re.compile(r"^(\d{4})$")
_SPAN = re.compile(r"^(\d{4})-(\d{1,2})\s*/\s*(\d{4})-(\d{1,2})$")


class PeriodError(ValueError):
    """A period that cannot be read or lies outside the allowed range."""


def last_year():
    return datetime.date.today().year + 1


def _month_end(year, month):
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text):
    """Return (start, end) dates for "2019" or "2012-12/2016-12"; raise PeriodError."""
    text = str(text).strip()
    if text.endswith(".0") and _YEAR.match(text[:-2]):  # a year read from a numeric cell
        text = text[:-2]
    if m := _YEAR.match(text):
        year = int(m.group(1))
        start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    elif m := _SPAN.match(text):
        y1, m1, y2, m2 = (int(g) for g in m.groups())
        if not (1 <= m1 <= 12 and 1 <= m2 <= 12):
            raise PeriodError(f'"{text}" has a month outside 1 to 12.')
        start, end = datetime.date(y1, m1, 1), _month_end(y2, m2)
        if end < start:
            raise PeriodError(f'"{text}" ends before it starts.')
    else:
        raise PeriodError(
            f'"{text}" is not a period: write a year such as 2019, '
            "or a span of months such as 2012-12/2016-12."
        )
    check_period_range(start, end)
    return start, end


def check_period_range(start, end):
    if start.year < FIRST_YEAR or end.year > last_year():
        raise PeriodError(
            f"The period must lie between {FIRST_YEAR} and {last_year()} "
            f"(got {format_period(start, end)})."
        )


def is_calendar_year(start, end):
    return (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and (
        start.year == end.year
    )


def format_period(start, end):
    """The exchange format's text for a period: "2019" or "2012-12/2016-12"."""
    if is_calendar_year(start, end):
        return str(start.year)
    return f"{start:%Y-%m}/{end:%Y-%m}"


def describe_period(start, end):
    """A reader's label: "2019" or "Dec 2012 to Dec 2016" ("dic 2012 a dic 2016")."""
    if is_calendar_year(start, end):
        return str(start.year)
    # The month's form is the language's: "Dec 2012" in English, "dic 2012" in Spanish.
    month = pgettext("a month in a span of months", "M Y")
    return gettext("%(start)s to %(end)s") % {
        "start": date_format(start, month),
        "end": date_format(end, month),
    }
