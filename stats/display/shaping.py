"""Observations shaped for display: charts, key figures, source lines, notes and links."""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from stats.display.batch import NATIONAL_CODE, STATE_KIND
from stats.display.geo import FIPS, state_shapes
from stats.display.summaries import chart_summary
from stats.models import Metric
from stats.store.formatting import (
    format_number,
    format_short,
    format_value,
    n_of_m,
    ordinal,
    plain_number,
)
from stats.store.history import moment_text
from stats.store.periods import is_calendar_year


def latest(observations):
    """The observation with the latest period (the shorter one when two end together)."""
    return max(observations, key=lambda o: (o.period_end, o.period_start), default=None)


def source_lines(observations):
    """Each source edition behind the observations, newest edition first."""
    sources = {o.source_id: o.source for o in observations}
    ordered = sorted(
        sources.values(),
        key=lambda s: (s.edition_year, s.published_on or datetime.date.min, s.pk),
        reverse=True,
    )
    # When the portal last changed a figure from each edition (a correction, a new import).
    changed = {}
    for o in observations:
        if o.updated_at and (o.source_id not in changed or o.updated_at > changed[o.source_id]):
            changed[o.source_id] = o.updated_at
    return [
        {
            "citation": s.citation,
            "url": s.url,
            "data_as_of": s.data_as_of,
            "updated_at": changed.get(s.pk),
            # What the source says its figures are not: shown wherever its figures are, in
            # its words, with the portal's rendering beside them on a page in another language.
            "caveat": s.caveat,
            "caveat_rendering": s.rendering("caveat"),
            "source": s,
        }
        for s in ordered
    ]


def restatement(o, name=None):
    """ "2018: the 2019 edition gives 170; the 2018 edition gave 171" when editions differ.

    Says what each edition published, without calling the newer value a revision: a later
    edition may print a different figure for the same year without saying it revised anything.
    """
    unit = o.metric.unit
    differing = [r for r in o.replaced if r.value != o.value]
    if not differing:
        return None

    # Edition names stay as their publisher wrote them, marked as English; another language
    # names the edition by its year, in its own words ("la edición de 2019").
    def edition(r):
        if get_language() == settings.LANGUAGE_CODE:
            return format_html('<span lang="en">{}</span>', r.source.edition)
        return format_html(gettext("{year} edition"), year=r.source.edition_year)

    older = mark_safe(  # built by format_html
        "; ".join(
            format_html(
                gettext("the {edition} gave {value}")
                if r.source.edition_year < o.source.edition_year
                else gettext("the {edition} gives {value}"),
                edition=edition(r),
                value=format_value(r.value, unit),
            )
            for r in differing
        )
    )
    return format_html(
        gettext("{name}: the {edition} gives {value}; {older}"),
        name=name or o.period_label,
        edition=edition(o),
        value=format_value(o.value, unit),
        older=older,
    )


def footnotes(named_observations):
    """Footnotes as published (observation.footnote) and what each edition gave, each once.

    named_observations: (name, observation) pairs; the name says which figure a note is about.
    A footnote several figures share is said once, naming them all: "2018, 2019: ...".
    """
    by_text = {}  # footnote text -> names, in reading order (dicts keep insertion order)
    renderings = {}  # footnote text -> its rendering in the page's language, if any
    restated = []
    for name, o in named_observations:
        if o.footnote:
            text = o.footnote.strip()
            by_text.setdefault(text, {})[name] = None
            renderings[text] = renderings.get(text) or o.rendering("footnote").strip()
        note = restatement(o, name)
        if note:
            restated.append(note)
    notes = [
        format_html("{}: {}", ", ".join(names), quoted(text, renderings[text]))
        for text, names in by_text.items()
    ]
    return list(dict.fromkeys(notes + restated))


def quoted(text, rendering=""):
    """English text (a source's words, or a note of the pack's kept beside them), marked as
    English; with the portal's rendering in the page's language first, where it gives one
    (the English stays: "in English", not "as published", since some notes are the
    portal's own)."""
    original = format_html('<span lang="en">{}</span>', text)
    if not rendering:
        return original
    return format_html(
        gettext("{rendering} (in English: {original})"), rendering=rendering, original=original
    )


def _words(text):
    return {w for w in re.findall(r"[a-z0-9]+", str(text).lower()) if len(w) > 3}


def editor_note(note, notes):
    """The chart's own note, unless a footnote already says it (said once, not twice).

    A note says the same as a footnote when nearly all of its words are in that footnote
    ("... are excluded" beside the source's "... have been excluded for purposes of ...").
    """
    note = (note or "").strip()
    words = _words(note)
    if not note or any(len(words & _words(n)) >= 0.8 * len(words) for n in notes):
        return ""
    return note


def _citation(title, where, day, cited_url, sources):
    """The citation text: the figure's title, where it is shown, the moment its figures are
    cited as of (with the address that reproduces them), and its sources as published."""
    data = "; ".join(s["citation"] for s in sources)
    # HTML: the sources' citations stay as published, marked as English.
    quoted = format_html('<span lang="en">{}</span>', data)
    parts = (
        f"“{title}”." if title else "",
        f"{where}." if where else "",
        format_html(gettext("Figures as of {day}: {url}."), day=day, url=cited_url)
        if cited_url
        else "",
        format_html(gettext("Data: {sources}."), sources=quoted) if data else "",
    )
    return format_html_join(" ", "{}", ((part,) for part in parts if part))


def figure_links(context, title, sources):
    """Permalink, citation text, the figure's own CSV and embed URLs, for a block's template.

    context: the block's; the page's context gives `page`, `page_url` (absolute),
    `portal_name` and the block's `block_id`.
    """
    page, block_id, anchor = context.get("page"), context.get("block_id"), context["anchor"]
    page_url = context.get("page_url") or ""
    permalink = f"{page_url}#{anchor}"
    # The citation links to the figures as they stood when cited, so it reproduces them.
    moment = context.get("figures_as_of") or context.get("cited_at") or timezone.now()
    cited = f"{page_url}?as_of={moment_text(moment)}#{anchor}"
    day = formats.date_format(timezone.localtime(moment), "DATE_FORMAT")
    where = ", ".join(
        part for part in (context.get("portal_name"), getattr(page, "title", "")) if part
    )
    citation = _citation(title, where, day, cited if page_url else "", sources)
    links = {
        "permalink": permalink,
        "cited_url": cited if page_url else "",
        "citation": citation,
        "figure_csv_url": "",
        "embed_url": "",
        "embed_path": "",
    }
    if page is not None and getattr(page, "pk", None) and block_id:
        links["figure_csv_url"] = reverse("figure_csv", args=[page.pk, block_id])
        embed = reverse("figure_embed", args=[page.pk, block_id])
        root = context.get("site_root_url") or ""
        links["embed_url"] = f"{root}{embed}"
        links["embed_path"] = embed
    return links


def download_url(fmt="csv", **params):
    """The `data_download` URL with filters."""
    url = reverse("data_download", args=[fmt])
    query = urlencode({k: v for k, v in params.items() if v not in (None, "", [])}, doseq=True)
    return f"{url}?{query}" if query else url


@dataclass
class Column:
    label: str
    unit: str
    cells: list  # one observation or None per row

    def values(self):
        return [plain_number(o.value) if o else None for o in self.cells]


def _period_key(o):
    return (o.period_start, o.period_end)


@dataclass
class ChartInputs:
    """What a chart block selects, read once: its series, periods and categories, and each
    observation by its cell (metric, jurisdiction, category, period)."""

    chart_type: str
    by_breakdown: bool
    metrics: list
    jurisdictions: list
    observations: list
    periods: list
    period_labels: dict
    yearly: bool
    categories: list
    cell: dict

    @property
    def series(self):
        return [(m, j) for m in self.metrics for j in self.jurisdictions]

    def series_label(self, m, j):
        if len(self.metrics) > 1 and len(self.jurisdictions) > 1:
            return f"{m.display_label}, {j.display_name}"
        return m.display_label if len(self.jurisdictions) == 1 else j.display_name


@dataclass
class ChartLayout:
    """A chart's rows and columns. kind: "categories" (rows are a breakdown's categories),
    "series" (rows are the series, for a doughnut) or "periods" (rows are periods)."""

    kind: str
    row_header: str
    rows: list
    columns: list


def _continuous_years(periods, period_labels):
    """A year axis is continuous: a year with nothing published is a row of its own (a gap in
    the chart, "Not published" in the table), so years are spaced by their value."""
    first, last = periods[0][0].year, periods[-1][0].year
    years = [(datetime.date(y, 1, 1), datetime.date(y, 12, 31)) for y in range(first, last + 1)]
    for p in years:
        period_labels.setdefault(p, str(p[0].year))
    return years


def _chart_periods(chart_type, observations):
    """(observations, periods, period labels, yearly) of a chart: a doughnut shows the parts
    of one period, the latest; yearly series are drawn with every year between."""
    if chart_type == "doughnut":
        newest = latest(observations)
        observations = [o for o in observations if _period_key(o) == _period_key(newest)]
    periods = sorted({_period_key(o) for o in observations})
    period_labels = {_period_key(o): o.period_label for o in observations}
    yearly = all(is_calendar_year(*p) for p in periods)
    if yearly and chart_type != "doughnut" and len(periods) > 1:
        periods = _continuous_years(periods, period_labels)
    return observations, periods, period_labels, yearly


def chart_inputs(value, observations):
    chart_type = value.get("chart_type") or "bar"
    observations, periods, period_labels, yearly = _chart_periods(chart_type, observations)
    categories = sorted(
        {o.breakdown for o in observations if o.breakdown_id},
        key=lambda c: (c.sort_order, c.label),
    )
    return ChartInputs(
        chart_type=chart_type,
        by_breakdown=bool(value.get("by_breakdown")),
        metrics=[m for m in value.get("metrics") or () if m is not None],
        jurisdictions=[j for j in value.get("jurisdictions") or () if j is not None],
        observations=observations,
        periods=periods,
        period_labels=period_labels,
        yearly=yearly,
        categories=categories,
        cell={
            (o.metric_id, o.jurisdiction_id, o.breakdown_id, _period_key(o)): o
            for o in observations
        },
    )


def rows_by_category(inputs):
    """Rows are categories, one column per series (one period, or a doughnut's)."""
    period = inputs.periods[0]
    columns = [
        Column(
            inputs.series_label(m, j),
            m.unit,
            [inputs.cell.get((m.pk, j.pk, c.pk, period)) for c in inputs.categories],
        )
        for m, j in inputs.series
    ]
    rows = [c.display_label for c in inputs.categories]
    return ChartLayout("categories", gettext("Category"), rows, columns)


def rows_by_series(inputs):
    """Rows are the series, one column: the period (a doughnut of totals)."""
    period = inputs.periods[0]
    column = Column(
        inputs.period_labels[period],
        inputs.metrics[0].unit,
        [inputs.cell.get((m.pk, j.pk, None, period)) for m, j in inputs.series],
    )
    rows = [inputs.series_label(m, j) for m, j in inputs.series]
    return ChartLayout("series", gettext("Figure"), rows, [column])


def rows_by_period(inputs):
    """Rows are periods; one column per series (and per category, when broken down)."""
    columns = []
    one_series = len(inputs.series) == 1
    for m, j in inputs.series:
        parts = inputs.categories if inputs.by_breakdown else [None]
        for c in parts:
            if c is None:
                label = inputs.series_label(m, j)
            else:
                label = (
                    c.display_label
                    if one_series
                    else f"{inputs.series_label(m, j)}: {c.display_label}"
                )
            cells = [inputs.cell.get((m.pk, j.pk, c.pk if c else None, p)) for p in inputs.periods]
            columns.append(Column(label, m.unit, cells))
    rows = [inputs.period_labels[p] for p in inputs.periods]
    return ChartLayout("periods", gettext("Period"), rows, columns)


def chart_layout(inputs):
    if inputs.by_breakdown and (len(inputs.periods) == 1 or inputs.chart_type == "doughnut"):
        layout = rows_by_category(inputs)
    elif inputs.chart_type == "doughnut":
        layout = rows_by_series(inputs)
    else:
        layout = rows_by_period(inputs)
    # Drop series with nothing published rather than draw them as zeros.
    layout.columns = [c for c in layout.columns if any(c.cells)]
    return layout


def revised_url(o):
    """The revisions log filtered to this figure when its public value changed after it was
    first published (a correction, or a new edition's different value that a later step
    brought); else "". Two editions loaded in one step were never shown apart: their values
    are what each edition gives (the figure's note), not a revision."""
    if o is None:
        return ""
    restated = any(
        r.value != o.value and r.created_by_import_id != o.created_by_import_id
        for r in getattr(o, "replaced", ())
    )
    if not (getattr(o, "revised", False) or restated):
        return ""
    figure = {"metric": o.metric.slug, "place": o.jurisdiction.code, "year": o.period_end.year}
    figure["breakdown"] = o.breakdown.slug if o.breakdown_id else "total"
    return f"{reverse('revisions')}?{urlencode(figure)}"


def cell_text(o, unit):
    return format_value(o.value, unit, o.numerator, o.denominator) if o else ""


def table_rows(layout):
    return [
        {
            "label": label,
            "cells": [
                {
                    "value": plain_number(c.cells[i].value) if c.cells[i] else None,
                    "text": cell_text(c.cells[i], c.unit),
                    "revised_url": revised_url(c.cells[i]),
                }
                for c in layout.columns
            ],
        }
        for i, label in enumerate(layout.rows)
    ]


def chart_config(value, inputs, layout):
    """The JSON Chart.js draws from."""
    unit = layout.columns[0].unit
    return {
        "type": inputs.chart_type,
        "title": value.get("title") or "",
        "unit": unit,
        # The value axis says its unit in the page's language ("Months", "Percent", "Count").
        "unit_label": str(dict(Metric.Unit.choices).get(unit, "")),
        "years": layout.kind == "periods" and inputs.yearly,
        "labels": layout.rows,
        "datasets": [
            {
                "label": c.label,
                "unit": c.unit,
                "data": c.values(),
                "text": [format_short(o.value, c.unit) if o else "" for o in c.cells],
                # Each point's source edition, said when the keyboard walks to it.
                "sources": [o.source.citation if o else "" for o in c.cells],
            }
            for c in layout.columns
        ],
    }


def single_figures(layout):
    """One period on a period axis is not a trend: it is shown as key figures instead."""
    if layout.kind != "periods" or len(layout.rows) != 1:
        return []
    return [
        {
            "label": c.label,
            "headline": format_value(c.cells[0].value, c.unit),
            "text": cell_text(c.cells[0], c.unit),
            "period": layout.rows[0],
        }
        for c in layout.columns
    ]


def chart_csv_url(value, inputs, plotted):
    if inputs.chart_type == "doughnut":
        years = [o.period_start.year for o in plotted] + [o.period_end.year for o in plotted]
        period_from, period_to = min(years), max(years)
    else:
        period_from, period_to = value.get("from_year"), value.get("to_year")
    return download_url(
        "csv",
        metric=[m.slug for m in inputs.metrics],
        jurisdiction=[j.code for j in inputs.jurisdictions],
        period_from=period_from,
        period_to=period_to,
        breakdown=1 if inputs.by_breakdown else 0,
    )


def build_chart(value, observations):
    """Rows (the chart's labels) and columns (its datasets) of exactly what the chart plots.

    The same rows and columns feed the JSON for Chart.js, the HTML table, the summary and the
    CSV link. Returns None when there is nothing to plot: no zeros are invented.
    """
    if not observations:
        return None
    inputs = chart_inputs(value, observations)
    layout = chart_layout(inputs)
    if not layout.columns:
        return None
    plotted = [o for c in layout.columns for o in c.cells if o]
    many_series = len(layout.columns) > 1 and len(inputs.series) > 1

    def name(o):
        parts = [inputs.series_label(o.metric, o.jurisdiction)] if many_series else []
        if o.breakdown_id:
            parts.append(o.breakdown.display_label)
        parts.append(o.period_label)
        return ", ".join(parts)

    notes = footnotes((name(o), o) for o in plotted)
    singles = single_figures(layout)
    return {
        "config": chart_config(value, inputs, layout),
        "single": bool(singles),
        "singles": singles,
        "row_header": layout.row_header,
        "column_labels": [c.label for c in layout.columns],
        "rows": table_rows(layout),
        "summary": chart_summary(layout),
        "sources": source_lines(plotted),
        "footnotes": notes,
        "note": editor_note(value.get("note"), notes),
        "csv_url": chart_csv_url(value, inputs, plotted),
        "observations": plotted,
    }


def key_figure(metric, jurisdiction, observations, show_national=True):
    """The block's figure (latest period in the selection), the nation's for the same period."""
    own = [o for o in observations if o.jurisdiction_id == jurisdiction.pk]
    figure = latest(own)
    if figure is None:
        return None
    national = None
    if show_national and jurisdiction.code != NATIONAL_CODE:
        national = next(
            (
                o
                for o in observations
                if o.jurisdiction.code == NATIONAL_CODE and _period_key(o) == _period_key(figure)
            ),
            None,
        )
    shown = [figure] + ([national] if national else [])
    return {
        "observation": figure,
        "metric": metric,
        "jurisdiction": jurisdiction,
        "text": format_value(figure.value, metric.unit, figure.numerator, figure.denominator),
        # The headline number alone, with "(4 of 4)" set smaller beside it.
        "headline": format_value(figure.value, metric.unit),
        "fraction": (
            f"({n_of_m(figure.numerator, figure.denominator)})"
            if figure.numerator is not None and figure.denominator is not None
            else ""
        ),
        "period": figure.period_label,
        "revised_url": revised_url(figure),
        "rank": figure.rank,
        "rank_text": (
            gettext("Ranked %(rank)s") % {"rank": format_value(figure.rank, "rank")}
            if figure.rank
            else ""
        ),
        "rank_short": ordinal(figure.rank) if figure.rank else "",
        "national": national,
        "national_text": format_value(
            national.value, metric.unit, national.numerator, national.denominator
        )
        if national
        else "",
        "sources": source_lines(shown),
        "footnotes": footnotes(
            (f"{o.jurisdiction.display_name}, {o.period_label}", o) for o in shown
        ),
    }


def as_published_in(o, edition):
    """The value `edition` published for o's figure (o itself when it published none).

    The other editions' values stay beside it in `.replaced`, so its note says what each gave.
    """
    versions = [o, *o.replaced]
    own = next((v for v in versions if v.source_id == edition.pk), None)
    if own is None or own is o:
        return o
    own.replaced = [v for v in versions if v is not own]
    return own


def mark_editions(rows, edition=None):
    """Name the edition beside each stack-up value that another edition published.

    With no edition chosen, every value is named when the values come from several editions.
    """
    shown = [o for r in rows for o in (r["observation"], r["national"]) if o]
    several = len({o.source_id for o in shown}) > 1
    for row in rows:
        for key in ("observation", "national"):
            o = row[key]
            other = o is not None and (
                o.source_id != edition.pk if edition is not None else several
            )
            row[f"{key}_edition"] = o.source.edition if other else ""


def ranked_categories(observations, limit):
    """The top categories of a rank-unit metric, in the latest period: value 1 first."""
    newest = latest(observations)
    if newest is None:
        return None
    rows = sorted(
        (o for o in observations if _period_key(o) == _period_key(newest)),
        key=lambda o: (o.value, o.breakdown.sort_order, o.breakdown.label),
    )[:limit]
    return {
        "period": newest.period_label,
        "items": [
            {"label": o.breakdown.display_label, "rank": format_number(o.value)} for o in rows
        ],
        "sources": source_lines(rows),
        "footnotes": footnotes((f"{o.breakdown.display_label}, {o.period_label}", o) for o in rows),
    }


MAP_CLASSES = 5
# The fills of the classes, lightest (lowest) first: each at least 3:1 against the white page
# and the white borders between states, so the lowest values never look like no figure. A
# state without a figure is hatched instead (the template's pattern, in NO_FIGURE_LINE).
MAP_FILLS = ("#4f8fc9", "#2f6fb2", "#1d5499", "#0f3b7b", "#06245a")
NO_FIGURE_LINE = "#767676"


def value_classes(values):
    """The map's classes: MAP_CLASSES equal steps from the lowest value to the highest, each
    a dict of its number (1 = lowest), its low and high edges."""
    low, high = min(values), max(values)
    step = (high - low) / MAP_CLASSES
    return [
        {
            "number": i + 1,
            "low": low + step * i,
            "high": high if i == MAP_CLASSES - 1 else low + step * (i + 1),
        }
        for i in range(MAP_CLASSES)
    ]


def class_of(value, classes):
    """The number of the class a value falls in (its high edge belongs to the next class)."""
    for c in classes[:-1]:
        if value < c["high"]:
            return c["number"]
    return classes[-1]["number"]


def map_legend(rows):
    """The map's key: each class that holds a state, its fill and the lowest and highest
    published values in it (as the table writes them), lowest class first."""
    by_class = {}
    for r in rows:  # highest value first
        by_class.setdefault(r["class"], []).append(r)
    return [
        {"fill": MAP_FILLS[number - 1], "low": members[-1]["text"], "high": members[0]["text"]}
        for number, members in sorted(by_class.items())
    ]


def map_shapes(rows):
    """Every state's shape on the SVG map (static/data/us-states.json), with its row's value,
    class and highlight, or no class when the store holds no figure for it."""
    by_fips = {r["fips"]: r for r in rows if r["fips"]}
    shapes = []
    for fips, shape in sorted(state_shapes()["states"].items()):
        row = by_fips.get(fips)
        shapes.append(
            {
                "d": shape["d"],
                "name": row["name"] if row else shape["name"],
                "code": row["code"] if row else "",
                "text": row["text"] if row else "",
                "class": row["class"] if row else None,
                "fill": MAP_FILLS[row["class"] - 1] if row else "",
                "mine": bool(row and row["mine"]),
            }
        )
    return shapes


def state_map(observations, state_code, minimum):
    """Every state's value of one metric in one year, ranked, for a map and its table.

    The rank is worked out here, by value (1 = the highest; ties share a rank), among the
    states the store holds a figure for. Returns (map, reason): map is None, with the reason
    for editors, when fewer than `minimum` states have a figure.
    """
    states = [o for o in observations if o.jurisdiction.kind == STATE_KIND]
    if len(states) < minimum:
        return None, (
            f"the store holds this figure for {len(states)} state{'s' if len(states) != 1 else ''}"
            f"; a map needs at least {minimum} to compare"
        )
    rows = _ranked_rows(states, state_code)
    mine = next((r for r in rows if r["mine"]), None)
    classes = value_classes([r["observation"].value for r in rows])
    for r in rows:
        r["class"] = class_of(r["observation"].value, classes)
    unit = states[0].metric.unit
    config = {
        "type": "map",
        "unit": unit,
        "label": states[0].metric.display_label,
        "highlight": mine["fips"] if mine else "",
        "states": [
            {"id": r["fips"], "name": r["name"], "value": r["value"], "text": r["text"]}
            for r in rows
            if r["fips"]
        ],
    }
    shapes = map_shapes(rows)
    return {
        "config": config,
        "rows": rows,
        "mine": mine,
        "count": len(rows),
        "period": states[0].period_label,
        "sources": source_lines(states),
        "footnotes": footnotes(
            (f"{o.jurisdiction.display_name}, {o.period_label}", o) for o in states
        ),
        "observations": states,
        "classes": classes,
        "shapes": shapes,
        "legend": map_legend(rows),
        "unpublished": any(not shape["fill"] for shape in shapes),
        "no_figure_line": NO_FIGURE_LINE,
        "width": state_shapes()["width"],
        "height": state_shapes()["height"],
    }, ""


def _ranked_rows(states, state_code):
    """The map's table rows, highest value first; ties share a rank (sorts `states`)."""
    states.sort(key=lambda o: (-o.value, o.jurisdiction.name))
    rows, rank, previous = [], 0, None
    for i, o in enumerate(states, start=1):
        if o.value != previous:
            rank, previous = i, o.value
        unit = o.metric.unit
        rows.append(
            {
                "observation": o,
                "code": o.jurisdiction.code,
                "name": o.jurisdiction.display_name,
                "fips": FIPS.get(o.jurisdiction.code, ""),
                "value": plain_number(o.value),
                "text": format_value(o.value, unit, o.numerator, o.denominator),
                "rank": rank,
                "rank_text": ordinal(rank),
                "mine": o.jurisdiction.code == state_code,
            }
        )
    return rows
