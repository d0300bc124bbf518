"""Bulk downloads of the figures (/data/download/<fmt>/), and the filters they share with the API.

The same GET filters serve the /data/ page's links, each chart's "Download CSV" link and the
JSON API (stats.opendata.api):

- metric: metric slug, repeatable;  jurisdiction: jurisdiction code, repeatable;
  source: source edition slug, repeatable;
- period_from / period_to: years; the period lies within them (as a chart's years);
- breakdown: absent or "all": totals and categories; "0" or "total": totals only (as a chart
  of totals); "1": the categories of a breakdown only (as a chart by breakdown); any other
  value: the categories with that slug;
- history=1: every edition's value, restated ones included; otherwise the current values.

The files hold the exchange format's columns, so a download imports back with `import_stats`.
"""

import datetime
import hashlib
import re

from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from stats.exchange.common import CONTENT_TYPES
from stats.exchange.exporting import export_stream
from stats.models import Category, Jurisdiction, Metric, Observation, Source
from stats.opendata.counts import cached_count
from stats.store.periods import FIRST_YEAR, last_year

TOTALS, CATEGORIES, EVERYTHING = "0", "1", "all"
BREAKDOWN_WORDS = {
    "": EVERYTHING,
    "0": TOTALS,
    "false": TOTALS,
    "total": TOTALS,
    "1": CATEGORIES,
    "true": CATEGORIES,
    "all": EVERYTHING,
}
BREAKDOWN_HELP = (
    'Empty or "all": totals and categories. "0" or "total": totals only. '
    '"1": breakdown categories only. Any other value: the categories with that slug.'
)
TRUE_WORDS = {"1", "true", "yes", "on"}

# Bump when the columns of the files change, so that cached copies are not reused (3: a state
# site's files cite each edition in that state's words).
EXPORT_VERSION = "3"


class FilterError(ValueError):
    """A filter that names nothing in the store, or cannot be read."""


def _ids(model, field, values, noun, listed_at):
    values = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if not values:
        return None
    found = dict(model.objects.filter(**{f"{field}__in": values}).values_list(field, "pk"))
    unknown = [v for v in values if v not in found]
    if unknown:
        names = ", ".join(f'"{v}"' for v in unknown)
        raise FilterError(f"Unknown {noun} {names}. The known values are listed at {listed_at}.")
    return list(found.values())


def _year(value, name):
    if value in (None, ""):
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise FilterError(f'{name} must be a year such as 2019 (got "{value}").') from None
    if not FIRST_YEAR <= year <= last_year():
        raise FilterError(f"{name} must lie between {FIRST_YEAR} and {last_year()} (got {year}).")
    return year


def select_observations(history=False, source=(), **filters):
    """The observations matching the filters: a queryset in key order, each current value
    first, then (with history) the values it replaced, newest first; `.is_current` says which
    is which (stats.models.attach_replaced adds what each current value replaced).

    Which value is current is decided among every edition (the `is_current` flag), so the
    source filter never shows a value that a later edition replaced as current.
    Raises FilterError with a clear message.
    """
    return selected(figure_filter(**filters), source_ids_of(source), history)


def source_ids_of(slugs):
    return _ids(Source, "slug", slugs, "source", "/api/sources")


def selected(q, source_ids, history):
    """The observations of a figure filter (Q) and source ids (None: every source)."""
    rows = Observation.objects.filter(q)
    if source_ids is not None:
        rows = rows.filter(source_id__in=source_ids)
    if not history:
        return rows.current()
    return rows.for_display().by_key()


PLACES_SHOWN = 10
PLACE_CHOSEN = re.compile(r"^.*\(([^()]+)\)$")


def places_named(text, limit=PLACES_SHOWN):
    """The places with figures whose code is the text, or whose name (in English or Spanish)
    starts with it or holds it as a word: [(code, name)], the closest first. The places are
    a small table; the figures are asked only whether one exists for each place found."""
    text = " ".join((text or "").split())
    if not text:
        return []
    named = (
        Q(code__iexact=text)
        | Q(name__istartswith=text)
        | Q(name_es__istartswith=text)
        | Q(name__icontains=f" {text}")
    )
    with_figures = Exists(Observation.objects.filter(jurisdiction=OuterRef("pk")))
    found = Jurisdiction.objects.filter(named).filter(with_figures).order_by()
    rows = found.only("code", "name", "name_es", "kind")[: limit * 5]

    def closeness(p):
        exact = text.lower() in (p.code.lower(), p.name.lower(), p.name_es.lower())
        starts = p.name.lower().startswith(text.lower())
        return (not exact, not starts, p.kind != Jurisdiction.Kind.STATE, p.name)

    return [(p.code, p.display_name) for p in sorted(rows, key=closeness)[:limit]]


def place_code(text):
    """The code of the place a person typed: its code or its name (English or Spanish, any
    case); otherwise the text as typed, which then gets a message naming close places."""
    text = " ".join(text.split())
    chosen = PLACE_CHOSEN.match(text)  # "United States (US)", as the place chooser writes it
    if chosen:
        text = chosen.group(1)
    named = Q(code__iexact=text) | Q(name__iexact=text) | Q(name_es__iexact=text)
    code = Jurisdiction.objects.filter(named).values_list("code", flat=True).first()
    return code or text


def _place_ids(values):
    """The ids of the places given by code (one query); a value that is no code is read as a
    name (one query each); an unknown one raises FilterError naming the places it could be."""
    codes = [v.upper() for v in values]
    try:
        return _ids(Jurisdiction, "code", codes, "jurisdiction", "/api/jurisdictions")
    except FilterError:
        named = [place_code(v) for v in values]
    try:
        return _ids(Jurisdiction, "code", named, "jurisdiction", "/api/jurisdictions")
    except FilterError as e:
        close = [f"{name} ({code})" for text in values for code, name in places_named(text)]
        if not close:
            raise
        raise FilterError(f"{e} Places with figures named so: {', '.join(close)}.") from None


def figure_filter(metric=(), jurisdiction=(), period_from=None, period_to=None, breakdown=None):
    """The filters as a Q over a figure's key (so it selects observations and their history
    alike); raise FilterError with a clear message.

    Runs one small query for each of metric, jurisdiction and a category slug that is
    given, to tell an unknown value from one with no figures.
    """
    q = Q()
    metric_ids = _ids(Metric, "slug", metric, "metric", "/api/metrics")
    if metric_ids is not None:
        q &= Q(metric_id__in=metric_ids)
    place_ids = _place_ids([c.strip() for c in jurisdiction if c and c.strip()])
    if place_ids is not None:
        q &= Q(jurisdiction_id__in=place_ids)

    start, end = _year(period_from, "period_from"), _year(period_to, "period_to")
    if start and end and start > end:
        raise FilterError(f"period_from ({start}) is after period_to ({end}).")
    if start:
        q &= Q(period_start__gte=datetime.date(start, 1, 1))
    if end:
        q &= Q(period_end__lte=datetime.date(end, 12, 31))

    word = (breakdown or "").strip()
    kind = BREAKDOWN_WORDS.get(word.lower())
    if kind == TOTALS:
        q &= Q(breakdown__isnull=True)
    elif kind == CATEGORIES:
        q &= Q(breakdown__isnull=False)
    elif kind is None:
        slugs = Category.objects.filter(slug=word).values_list("pk", flat=True)
        category_ids = list(slugs)
        if not category_ids:
            raise FilterError(
                f'Unknown breakdown "{word}". {BREAKDOWN_HELP} '
                "The categories are listed with each metric at /api/metrics."
            )
        q &= Q(breakdown_id__in=category_ids)
    return q


def filters_from_query(query):
    """The select_observations() filter arguments from a QueryDict (request.GET)."""
    return {
        "metric": query.getlist("metric"),
        "jurisdiction": query.getlist("jurisdiction"),
        "source": query.getlist("source"),
        "period_from": query.get("period_from"),
        "period_to": query.get("period_to"),
        "breakdown": query.get("breakdown"),
    }


def wants_history(query):
    return (query.get("history") or "").strip().lower() in TRUE_WORDS


def download_etag(request, fmt, version, scope=""):
    """A filtered download's ETag: its format, its query, the data version and the site's
    scope (a state site cites the editions in its state's words)."""
    text = f"{EXPORT_VERSION}|{fmt}|{sorted(request.GET.lists())}|{version}|{scope}"
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _from_the_form(request):
    """A person at the data page's form (a browser asking for a page), not a script."""
    return "text/html" in request.headers.get("Accept", "")


def download_problem(request, message, empty=False, status=400):
    """The form again with what was wrong, for a browser; the message as text for a script."""
    if not _from_the_form(request):
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    query = request.GET
    chosen = {
        name: query.get(name, "")
        for name in ("metric", "jurisdiction", "source", "period_from", "period_to", "breakdown")
    }
    chosen["history"] = wants_history(query)
    for name, label in (("period_from", "From year"), ("period_to", "To year")):
        message = message.replace(name, label)
    context = {"message": message, "empty": empty, "chosen": chosen}
    return render(request, "stats/download_problem.html", context, status=status)


def filtered_download(request, fmt, rows, history, max_rows, total=None, state=None):
    """The figures a filter chose, streamed as they are read (memory does not grow with the
    number of rows); a choice of more than `max_rows` figures is refused with a message
    pointing to the full files, so no request streams a national table. `total`: their
    number, when `rows` is no queryset (the figures as of a past moment). `state`: the state
    whose words the sources are cited in (a state site's)."""
    if _from_the_form(request) and not rows.exists():
        return download_problem(
            request,
            "The store holds no figure for this choice. Try another place, metric, "
            "source or years.",
            empty=True,
            status=404,
        )
    if (cached_count(rows) if total is None else total) > max_rows:
        return download_problem(
            request,
            f"This choice holds more than {max_rows:,} figures. Choose a metric, a place or "
            "fewer years, or download the complete file (all current figures, or the full "
            "history) at the top of the data page.",
        )
    response = StreamingHttpResponse(
        export_stream(rows, fmt, state), content_type=CONTENT_TYPES[fmt]
    )
    name = "figures-history" if history else "figures"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    # Shared caches may keep a copy, but must check the ETag before serving it again.
    patch_cache_control(response, public=True, no_cache=True)
    return response
