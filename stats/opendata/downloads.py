"""Bulk downloads of the figures (/data/download/<fmt>/), and the filters they share with the API.

The same GET filters serve the /data/ page's links, each chart's "Download CSV" link and the
JSON API (stats.api):

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

from django.db import models
from django.db.models import Count, Max, Q, Subquery
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_safe

from stats.exchange.common import CONTENT_TYPES
from stats.exchange.exporting import export_stream
from stats.models import Category, Jurisdiction, Metric, Observation, Source
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

# Bump when the columns of the files change, so that cached copies are not reused.
EXPORT_VERSION = "2"


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
    is which, and each fetched current value has `.replaced`.

    Which value is current is decided among every edition (the `is_current` flag), so the
    source filter never shows a value that a later edition replaced as current.
    Raises FilterError with a clear message.
    """
    source_ids = _ids(Source, "slug", source, "source", "/api/sources")
    rows = filter_observations(**filters)
    if source_ids is not None:
        rows = rows.filter(source_id__in=source_ids)
    if not history:
        return rows.current()
    return rows.for_display().by_key().with_replaced()


def filter_observations(
    metric=(), jurisdiction=(), period_from=None, period_to=None, breakdown=None
):
    """Observations matching the filters (a queryset); raise FilterError with a clear message.

    Runs one small query for each of metric, jurisdiction and a category slug that is
    given, to tell an unknown value from one with no figures.
    """
    observations = Observation.objects.all()
    metric_ids = _ids(Metric, "slug", metric, "metric", "/api/metrics")
    if metric_ids is not None:
        observations = observations.filter(metric_id__in=metric_ids)
    codes = [c.upper() for c in jurisdiction if c]
    place_ids = _ids(Jurisdiction, "code", codes, "jurisdiction", "/api/jurisdictions")
    if place_ids is not None:
        observations = observations.filter(jurisdiction_id__in=place_ids)

    start, end = _year(period_from, "period_from"), _year(period_to, "period_to")
    if start and end and start > end:
        raise FilterError(f"period_from ({start}) is after period_to ({end}).")
    if start:
        observations = observations.filter(period_start__gte=datetime.date(start, 1, 1))
    if end:
        observations = observations.filter(period_end__lte=datetime.date(end, 12, 31))

    word = (breakdown or "").strip()
    kind = BREAKDOWN_WORDS.get(word.lower())
    if kind == TOTALS:
        observations = observations.filter(breakdown__isnull=True)
    elif kind == CATEGORIES:
        observations = observations.filter(breakdown__isnull=False)
    elif kind is None:
        slugs = Category.objects.filter(slug=word).values_list("pk", flat=True)
        category_ids = list(slugs)
        if not category_ids:
            raise FilterError(
                f'Unknown breakdown "{word}". {BREAKDOWN_HELP} '
                "The categories are listed with each metric at /api/metrics."
            )
        observations = observations.filter(breakdown_id__in=category_ids)
    return observations


def filters_from_query(query):
    """The filter_observations() arguments from a QueryDict (request.GET)."""
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


def _latest_revision(model):
    newest = models.F("latest_revision").desc(nulls_last=True)
    return Max(Subquery(model.objects.order_by(newest).values("latest_revision")[:1]))


def _fingerprint(request):
    """What the files depend on: the observations (their count, current count and latest
    change) and the latest revisions of what they name. One aggregate, no join."""
    if not hasattr(request, "_stats_fingerprint"):
        request._stats_fingerprint = Observation.objects.aggregate(
            updated=Max("updated_at"),
            count=Count("pk"),
            current=Count("pk", filter=Q(is_current=True)),
            sources=_latest_revision(Source),
            metrics=_latest_revision(Metric),
            places=_latest_revision(Jurisdiction),
        )
    return request._stats_fingerprint


def download_etag(request, fmt):
    state = sorted(_fingerprint(request).items())
    text = f"{EXPORT_VERSION}|{fmt}|{sorted(request.GET.lists())}|{state}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _from_the_form(request):
    """A person at the data page's form (a browser asking for a page), not a script."""
    return "text/html" in request.headers.get("Accept", "")


def _download_problem(request, message, empty=False, status=400):
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


@require_safe
@condition(etag_func=download_etag)
def data_download(request, fmt):
    """Observations as a CSV, XLSX or JSON file: the exchange format plus source details."""
    history = wants_history(request.GET)
    try:
        rows = select_observations(history=history, **filters_from_query(request.GET))
    except FilterError as e:
        return _download_problem(request, str(e))
    if _from_the_form(request) and not (rows.exists() if hasattr(rows, "exists") else rows):
        return _download_problem(
            request,
            "The store holds no figure for this choice. Try another place, metric, "
            "source or years.",
            empty=True,
            status=404,
        )
    # Streamed: memory does not grow with the number of rows.
    response = StreamingHttpResponse(export_stream(rows, fmt), content_type=CONTENT_TYPES[fmt])
    name = "figures-history" if history else "figures"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    # Shared caches may keep a copy, but must check the ETag before serving it again.
    patch_cache_control(response, public=True, no_cache=True)
    return response
