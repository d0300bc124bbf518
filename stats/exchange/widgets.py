"""django-import-export widgets that convert one column of an import row each (and render it
back on export, resource.py).

Each widget's clean() returns the cell's value, or raises ValueError with the message the
row's error names under its column. Related objects are looked up in maps the import reads
once (one query per table, for the names the file uses), never one query per row.
"""

from import_export import widgets

from stats.exchange.common import (
    Formula,
    clean_text,
    max_text_length,
    parse_number,
    unneutralise,
)
from stats.models import rank_error
from stats.store.formatting import format_decimal
from stats.store.periods import PeriodError, format_period, parse_period

FORMULA_MESSAGE = (
    "a formula is not accepted; type the value itself "
    "(in Excel: copy, then Paste Special > Values)."
)


def cut(value, limit=60):
    """A cell's text for a message: cut short, so a huge cell cannot make a huge message."""
    text = clean_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_empty(value):
    return value is None or (isinstance(value, str) and not clean_text(value))


class NameWidget(widgets.ForeignKeyWidget):
    """A related object by its code or slug, from {normalised name: object}."""

    required = "A value is required."

    def __init__(self, model, field, names, suggest, all_names=None):
        super().__init__(model, field=field)
        self.names, self.suggest, self.all_names = names, suggest, all_names

    def normalise(self, text):
        return text.lower()

    def clean(self, value, row=None, **kwargs):
        found = super().clean(clean_text(value), row, **kwargs)
        if found is None:
            raise ValueError(self.required)
        return found

    def get_instance_by_lookup_fields(self, value, row, **kwargs):
        found = self.names.get(self.normalise(value))
        if found is None:
            raise ValueError(self.unknown(value, **kwargs))
        return found

    def unknown(self, value, **kwargs):
        kind = self.model._meta.model_name
        return f'Unknown {kind} "{cut(value)}".' + self.suggest(kind, value, self.all_names)


class JurisdictionWidget(NameWidget):
    required = "A jurisdiction code is required (US, or a state's code)."

    def normalise(self, text):
        return text.upper()


class MetricWidget(NameWidget):
    required = "A metric is required."

    def unknown(self, value, **kwargs):
        slug = value.lower()
        return f'Unknown metric "{cut(slug)}".' + self.suggest("metric", slug, self.all_names)


class SourceWidget(NameWidget):
    """A source edition, which must be able to have published the row's period."""

    required = "A source edition slug is required."

    def unknown(self, value, period=None, **kwargs):
        slug, end = value.lower(), period[1] if period else None
        return (
            f'Unknown source "{cut(slug)}". A new report needs its Source first '
            "(Statistics > Sources > Add)."
            + self.suggest(f"source {end}", slug, lambda: self.all_names(end))
        )

    def clean(self, value, row=None, period=None, **kwargs):
        source = super().clean(value, row, period=period, **kwargs)
        if period and period[1].year > source.edition_year:
            raise ValueError(
                f"The period {format_period(*period)} ends after what "
                f'"{source.slug}" covers (its {source.edition_year} edition cannot publish '
                f"figures for later than {source.edition_year}). Use a later edition, or add "
                "its Source first."
            )
        return source


class BreakdownWidget(NameWidget):
    """A category of the row's metric's dimension, by slug or label; empty for the total."""

    def clean(self, value, row=None, metric=None, **kwargs):
        name = clean_text(value)
        if not name or metric is None:
            return None
        if metric.dimension_id is None:
            raise ValueError(f'"{metric.slug}" has no breakdown; leave the cell empty.')
        names = self.names.get(metric.dimension_id, {})
        found = names.get(name.lower())
        if found is None:
            choices = {k: f'"{c.slug}"' for k, c in names.items()}
            raise ValueError(
                f'Unknown breakdown "{cut(name)}" for "{metric.slug}".'
                + self.suggest(f"breakdown {metric.pk}", name, choices)
            )
        return found


class PeriodWidget(widgets.Widget):
    """A year (2019) or a span of months (2012-12/2016-12), as (first day, last day)."""

    def clean(self, value, row=None, **kwargs):
        text = clean_text(value)
        if not text:
            raise ValueError("A period is required: a year such as 2019, or 2012-12/2016-12.")
        try:
            return parse_period(text[:40])
        except PeriodError as e:
            raise ValueError(
                str(e) if len(text) <= 40 else f'"{cut(text)}" is not a period.'
            ) from None

    def render(self, value, obj=None, **kwargs):
        return format_period(*value) if value else ""


class FigureWidget(widgets.DecimalWidget):
    """A figure in ASCII digits (common.parse_number); a percent sign only for percents."""

    def __init__(self, percent_ok=False):
        super().__init__()
        self.percent_ok = percent_ok

    def render(self, value, obj=None, **kwargs):
        """The exact figure, as it was read: 233.0000 -> "233"; none -> ""."""
        return format_decimal(value)

    def clean(self, value, row=None, unit=None, **kwargs):
        if is_empty(value):
            return None
        try:
            return parse_number(value, percent_ok=self.percent_ok and unit == "percent")
        except ValueError as e:
            raise ValueError(
                str(e) if len(str(value)) <= 60 else f'"{cut(value)}" is not a number.'
            ) from None


class RankWidget(FigureWidget):
    def clean(self, value, row=None, **kwargs):
        number = super().clean(value, row, **kwargs)
        if number is None:
            return None
        message = rank_error(number)
        if message:
            raise ValueError(message)
        return int(number)


class FootnoteWidget(widgets.CharWidget):
    """Text as published (or its Spanish rendering), with a spreadsheet's formula guard
    undone, up to the length limit."""

    def __init__(self, name="footnote", **kwargs):
        self.name = name
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = unneutralise(str(value or "").replace("\u00a0", " ").strip())
        if len(text) > max_text_length():
            raise ValueError(
                f"The {self.name} has {len(text):,} characters; the limit is "
                f"{max_text_length():,}. Shorten it."
            )
        return text


def refuse_formula(value):
    """The one formula guard of an import: a cell read as a formula is an error of its own."""
    if isinstance(value, Formula):
        raise ValueError(FORMULA_MESSAGE)
    return value
