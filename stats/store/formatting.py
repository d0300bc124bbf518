"""Figures as readers see them, by the metric's unit: "1,234", "92 months", "100% (4 of 4)",
"11th in the nation"; in Spanish "1.234", "92 meses", "100 % (4 de 4)", "11.º en el país".

The words and the digit grouping come from the active language (Django's translation catalog
and its locale formats); the figures themselves are never changed.
"""

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext, pgettext


def format_decimal(value):
    """Exact text for a Decimal, without trailing zeros or exponent: 233.0000 -> "233"."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def ordinal(n):
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 111th (in Spanish 1.º, 2.º...)."""
    n = int(n)
    if 10 <= n % 100 <= 20:
        pattern = pgettext("ordinal 11, 12, 13", "{}th")
    elif n % 10 == 1:
        pattern = pgettext("ordinal 1", "{}st")
    elif n % 10 == 2:
        pattern = pgettext("ordinal 2", "{}nd")
    elif n % 10 == 3:
        pattern = pgettext("ordinal 3", "{}rd")
    else:
        pattern = pgettext("ordinal 0, 4 to 9", "{}th")
    return pattern.format(n)


def format_number(value):
    """A number with the language's digit grouping and no needless trailing zeros:
    1,234 / 7.5 in English, 1.234 / 7,5 in Spanish."""
    value = Decimal(value)
    if value == value.to_integral_value():
        value = int(value)
    else:
        value = value.normalize()
    return number_format(value, use_l10n=True, force_grouping=True)


def percent(text):
    return gettext("%(number)s%%") % {"number": text}


def n_of_m(numerator, denominator):
    """ "4 of 4" ("4 de 4")."""
    return gettext("%(numerator)s of %(denominator)s") % {
        "numerator": format_number(numerator),
        "denominator": format_number(denominator),
    }


def plain_number(value):
    """A Decimal as a JSON number: an int when whole, else a float; None stays None."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_rank(rank):
    return gettext("%(ordinal)s in the nation") % {"ordinal": ordinal(rank)}


def format_value(value, unit, numerator=None, denominator=None):
    """The figure by its unit. A percent with its fraction reads "100% (4 of 4)"."""
    if value is None:
        return ""
    if unit == "percent":
        text = percent(format_number(value))
        if numerator is not None and denominator is not None:
            text += f" ({n_of_m(numerator, denominator)})"
        return text
    if unit == "months":
        # The plural form by the whole number (1 month, 1.5 months, 92 months).
        count = int(value) if Decimal(value) == Decimal(value).to_integral_value() else 2
        return ngettext("%(number)s month", "%(number)s months", count) % {
            "number": format_number(value)
        }
    if unit == "rank":
        return format_rank(value)
    return format_number(value)


def format_short(value, unit):
    """A compact form for a chart's value labels, with its unit: "92", "35%", "11th",
    "145 months" (a count's unit is the value axis's title)."""
    if value is None:
        return ""
    if unit == "percent":
        return percent(format_number(value))
    if unit == "rank":
        return ordinal(value)
    if unit == "months":
        return format_value(value, unit)
    return format_number(value)


def format_observation(observation):
    return format_value(
        observation.value,
        observation.metric.unit,
        observation.numerator,
        observation.denominator,
    )
