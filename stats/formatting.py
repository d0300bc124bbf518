"""Figures as readers see them, by the metric's unit: "1,234", "92 months", "100% (4 of 4)",
"11th in the nation"."""

from decimal import Decimal


def format_decimal(value):
    """Exact text for a Decimal, without trailing zeros or exponent: 233.0000 -> "233"."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def ordinal(n):
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 111th."""
    n = int(n)
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_number(value):
    """A number with thousands separators and no needless trailing zeros: 1,234 / 7.5."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value.normalize():,f}"
    return text


def plain_number(value):
    """A Decimal as a JSON number: an int when whole, else a float; None stays None."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_rank(rank):
    return f"{ordinal(rank)} in the nation"


def format_value(value, unit, numerator=None, denominator=None):
    """The figure by its unit. A percent with its fraction reads "100% (4 of 4)"."""
    if value is None:
        return ""
    if unit == "percent":
        text = f"{format_number(value)}%"
        if numerator is not None and denominator is not None:
            text += f" ({format_number(numerator)} of {format_number(denominator)})"
        return text
    if unit == "months":
        word = "month" if Decimal(value) == 1 else "months"
        return f"{format_number(value)} {word}"
    if unit == "rank":
        return format_rank(value)
    return format_number(value)


def format_short(value, unit):
    """A compact form for chart labels and table cells of one series: "92", "35%", "11th"."""
    if value is None:
        return ""
    if unit == "percent":
        return f"{format_number(value)}%"
    if unit == "rank":
        return ordinal(value)
    return format_number(value)


def format_observation(observation):
    return format_value(
        observation.value,
        observation.metric.unit,
        observation.numerator,
        observation.denominator,
    )
