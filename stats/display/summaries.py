"""Chart text written from the data: a headline and a short summary of what a chart shows.

Every number in them is a text of the chart's own table (a cell, a row or a column label),
so the summary says nothing the table does not; it is computed with the chart, so a changed
figure changes it at once. The words are in the active language. The change between two
values is said in words (rose, fell, unchanged), never as a computed difference.
"""

from django.utils.translation import gettext

from stats.store.formatting import format_value

# A summary stays short: the first few series are described, the table holds the rest.
MAX_SERIES = 4


def _text(o, unit):
    return format_value(o.value, unit, o.numerator, o.denominator)


def _points(labels, column):
    return [(label, o) for label, o in zip(labels, column.cells, strict=True) if o is not None]


def _joined(labels):
    return ", ".join(labels)


def trend_sentence(column, points):
    """A series over periods: its first and last value, the direction, highest and lowest."""
    (first_label, first), (last_label, last) = points[0], points[-1]
    words = {
        "label": column.label,
        "first": _text(first, column.unit),
        "first_period": first_label,
        "last": _text(last, column.unit),
        "last_period": last_label,
    }
    if last.value > first.value:
        sentence = gettext(
            "%(label)s rose from %(first)s in %(first_period)s to %(last)s in %(last_period)s."
        )
    elif last.value < first.value:
        sentence = gettext(
            "%(label)s fell from %(first)s in %(first_period)s to %(last)s in %(last_period)s."
        )
    else:
        sentence = gettext(
            "%(label)s was %(first)s in %(first_period)s and %(last)s in %(last_period)s."
        )
    sentences = [sentence % words]
    if len(points) > 2:
        sentences.append(extremes_sentence(column, points))
    return sentences


def extremes(column, points):
    high = max(points, key=lambda p: p[1].value)
    low = min(points, key=lambda p: p[1].value)
    return {
        "label": column.label,
        "high": _text(high[1], column.unit),
        "high_label": high[0],
        "low": _text(low[1], column.unit),
        "low_label": low[0],
    }


def extremes_sentence(column, points):
    """Over periods: when the series was highest and lowest."""
    return gettext(
        "Highest: %(high)s in %(high_label)s; lowest: %(low)s in %(low_label)s."
    ) % extremes(column, points)


def categories_sentence(column, points):
    """Over categories (or series): which is largest and smallest."""
    return gettext(
        "%(label)s: highest for %(high_label)s (%(high)s), lowest for %(low_label)s (%(low)s)."
    ) % extremes(column, points)


def one_value_sentence(column, label, o):
    return gettext("%(label)s: %(value)s (%(where)s).") % {
        "label": column.label,
        "value": _text(o, column.unit),
        "where": label,
    }


def column_sentences(layout, column):
    points = _points(layout.rows, column)
    if len(points) == 1:
        return [one_value_sentence(column, *points[0])]
    if layout.kind == "periods":
        return trend_sentence(column, points)
    return [categories_sentence(column, points)]


def gaps_sentence(layout):
    """Rows with no value in any series, named as gaps."""
    empty = [
        label
        for i, label in enumerate(layout.rows)
        if all(c.cells[i] is None for c in layout.columns)
    ]
    if not empty:
        return ""
    return gettext("The portal holds no figure for %(rows)s.") % {"rows": _joined(empty)}


def headline(layout):
    labels = _joined(c.label for c in layout.columns[:MAX_SERIES])
    if layout.kind == "periods" and len(layout.rows) > 1:
        return gettext("%(what)s, %(first)s to %(last)s") % {
            "what": labels,
            "first": layout.rows[0],
            "last": layout.rows[-1],
        }
    if layout.kind == "categories":
        return gettext("%(what)s, by category") % {"what": labels}
    return labels


def chart_summary(layout):
    """{"headline", "sentences"} for a chart's layout (stats.display.shaping.ChartLayout)."""
    sentences = []
    for column in layout.columns[:MAX_SERIES]:
        sentences.extend(column_sentences(layout, column))
    if len(layout.columns) > MAX_SERIES:
        sentences.append(gettext("The table lists every series."))
    gaps = gaps_sentence(layout)
    if gaps:
        sentences.append(gaps)
    return {"headline": headline(layout), "sentences": sentences}
