"""The read-only JSON API under /api/ (django-ninja): jurisdictions, metrics, sources and
observations, each value with its source edition.

GET only (other methods get a JSON 405), open to any origin (CORS), rate-limited per client
address (a JSON 429; PORTAL_API_RATE, default 120/min), every error a JSON object with a
`detail` message. The docs page at /api/docs is rendered by the portal from the OpenAPI
schema itself: plain HTML, no script, nothing from another origin.
Each request runs a fixed number of queries, whatever the page size.
"""

import base64
import binascii
import json
import logging
from datetime import date
from functools import wraps
from typing import Annotated

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import path, re_path, reverse
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.throttling import AnonRateThrottle

from stats.models import Jurisdiction, Metric, Observation, Source, attach_replaced
from stats.opendata.as_of import AS_OF_HELP, FiguresAsOf, as_of_moment
from stats.opendata.counts import cached_count
from stats.opendata.downloads import BREAKDOWN_HELP, FilterError, select_observations
from stats.store.formatting import plain_number
from stats.store.periods import FIRST_YEAR

logger = logging.getLogger(__name__)

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_OFFSET = 1_000_000_000
RATE = settings.PORTAL_API_RATE
READ_METHODS = ("GET", "HEAD")


class SelfHostedDocs(DocsBase):
    """The API's documentation as a page of the portal, read from its OpenAPI schema."""

    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema()
        operations = [
            {
                "method": method.upper(),
                "path": route,
                "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [
                    {
                        "name": p["name"],
                        "required": p.get("required", False),
                        "type": _type_name(p.get("schema", {})),
                        "description": p.get("description")
                        or p.get("schema", {}).get("description", ""),
                    }
                    for p in op.get("parameters", [])
                ],
            }
            for route, methods in schema.get("paths", {}).items()
            for method, op in methods.items()
        ]
        context = {
            "api": api,
            "openapi_url": self.get_openapi_url(api, kwargs),
            "operations": operations,
        }
        return render(request, "stats/api_docs.html", context)


def _type_name(schema):
    """A reader's name for a parameter's JSON schema type: "string", "integer or null"..."""
    if "anyOf" in schema:
        return " or ".join(_type_name(s) for s in schema["anyOf"])
    if "allOf" in schema:
        return " and ".join(_type_name(s) for s in schema["allOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(choice) for choice in schema["enum"])
    kind = schema.get("type", "value")
    if kind == "array":
        return f"list of {_type_name(schema.get('items', {}))}"
    return kind


def api_urls():
    """The API's URLs for include(): ninja's own (api.urls), with the portal's index page
    instead of ninja's root, a JSON 404 for any other path, and every view read-only."""
    patterns, app_name, namespace = api.urls
    # ninja's routes are plain paths: each is made again around its view, read-only.
    patterns = [
        path(str(url.pattern), read_only(url.callback), url.default_args, url.name)
        for url in patterns
        if url.name != "api-root"
    ]
    patterns += [
        path("", read_only(api_index), name="api-root"),
        re_path(r"^.*$", read_only(api_not_found)),
    ]
    return patterns, app_name, namespace


def read_only(view):
    """Refuse every method but GET and HEAD with a JSON 405. (Any origin may read the answers:
    django-cors-headers, CORS_URLS_REGEX.)"""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in READ_METHODS:
            response = JsonResponse(
                {"detail": f"{request.method} is not allowed: this API is read-only. Use GET."},
                status=405,
            )
            response["Allow"] = ", ".join(READ_METHODS)
            return response
        if request.method == "HEAD":
            request.method = "GET"  # the server drops the body
        return view(request, *args, **kwargs)

    wrapped.csrf_exempt = True  # nothing here changes state
    return wrapped


def api_index(request):
    return JsonResponse(
        {
            "detail": "The figures of the portal, each with its source. Read-only.",
            "docs": reverse("api:openapi-view"),
            "openapi": reverse("api:openapi-json"),
            "endpoints": [reverse(f"api:{name}") for name in ENDPOINTS],
        }
    )


def api_not_found(request):
    return JsonResponse(
        {"detail": f"No API endpoint at {request.path}. See {reverse('api:openapi-view')}."},
        status=404,
    )


class ClientThrottle(AnonRateThrottle):
    """Counts requests per client address, found as the login lockout finds it (axes and
    django-ipware: behind PORTAL_TRUSTED_PROXY_COUNT proxies, the entry of X-Forwarded-For the
    trusted proxies appended; otherwise REMOTE_ADDR, so a client cannot claim another address).
    The counts live in the default cache: when it does not answer, requests are let through
    (the limit fails open) and the API still answers."""

    def get_ident(self, request):
        return get_client_ip_address(request)


throttle = ClientThrottle(RATE)

api = NinjaAPI(
    title="Human trafficking figures",
    version="1",
    description=(
        "Read-only figures of the portal's statistics store, each with the source edition "
        "that published it. Observations show the current values (the newest edition's) unless "
        "`history=true`. Lists are paginated with `limit` and `offset`; the current "
        "observations also with `cursor` (each page's `next_cursor`), which reaches any page "
        "as fast as the first. Bulk files: /data/."
    ),
    urls_namespace="api",
    docs=SelfHostedDocs(),
    throttle=throttle,
)


# --- Errors: always JSON with a `detail` message --------------------------------------------


class ErrorOut(Schema):
    detail: str


ERRORS = {400: ErrorOut, 429: ErrorOut}


@api.exception_handler(ValidationError)
def bad_parameters(request, exc):
    messages = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        messages.append(f"{where}: {error.get('msg', 'invalid')}")
    detail = "Invalid parameters. " + "; ".join(messages)
    return api.create_response(request, {"detail": detail, "errors": exc.errors}, status=400)


@api.exception_handler(FilterError)
def bad_filter(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Exception)
def server_error(request, exc):
    logger.exception("API error at %s", request.path)
    got_request_exception.send(sender=None, request=request)
    return api.create_response(request, {"detail": "Server error."}, status=500)


# --- Schemas --------------------------------------------------------------------------------

Number = int | float


class Page(Schema):
    count: int = Field(description="How many items match, over all pages.")
    limit: int
    offset: int
    next: str | None = Field(description="The URL of the next page, if any.")
    previous: str | None


class JurisdictionOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None = Field(description="The code of the jurisdiction it lies in.")
    is_territory: bool


class JurisdictionPage(Page):
    items: list[JurisdictionOut]


class CategoryOut(Schema):
    slug: str
    label: str
    note: str


class MetricOut(Schema):
    slug: str
    label: str
    definition: str
    unit: str
    dimension: str | None = Field(description="What the metric may be broken down by.")
    categories: list[CategoryOut]
    sources: list[str] = Field(description="Slugs of the source editions that publish it.")


class MetricPage(Page):
    items: list[MetricOut]


class SourceOut(Schema):
    slug: str
    publisher: str
    title: str
    edition: str
    edition_year: int
    url: str
    published_on: date | None
    data_as_of: date | None
    coverage: str
    methodology: str
    limitations: str
    caveat: str = Field(description="What the figures are not, as the source words it.")
    methodology_es: str = Field(description="The methodology in Spanish; empty: none given.")
    limitations_es: str = Field(description="The limitations in Spanish; empty: none given.")
    caveat_es: str = Field(description="The caveat in Spanish; empty: none given.")


class SourcePage(Page):
    items: list[SourceOut]


class SourceRef(Schema):
    slug: str
    publisher: str
    title: str
    edition: str
    url: str
    data_as_of: date | None


class ReplacedOut(Schema):
    value: Number
    numerator: Number | None
    denominator: Number | None
    rank: int | None
    footnote: str
    footnote_es: str = Field(description="The footnote in Spanish; empty: none given.")
    source: SourceRef


class ObservationOut(Schema):
    metric: str
    unit: str
    jurisdiction: str
    period: str = Field(description='"2019", or a span of months "2012-12/2016-12".')
    period_start: date
    period_end: date
    breakdown: str | None = Field(description="The category's slug; null for the total.")
    breakdown_label: str | None
    value: Number
    numerator: Number | None
    denominator: Number | None
    rank: int | None
    footnote: str
    footnote_es: str = Field(description="The footnote in Spanish; empty: none given.")
    source: SourceRef
    current: bool = Field(description="False for a value a newer edition replaced.")
    replaced: list[ReplacedOut] = Field(
        description="Older editions' values for the same figure, newest first."
    )


class ObservationPage(Page):
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the page after this one (current values only)."
    )
    items: list[ObservationOut]


# --- Helpers --------------------------------------------------------------------------------

Limit = Annotated[int, Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")]
Offset = Annotated[int, Query(0, ge=0, le=MAX_OFFSET)]


def page(request, rows, limit, offset, shape, cursor_of=None):
    """One page of a queryset: one COUNT query (none when the count is cached under the
    data version, see stats.opendata.counts) and one LIMIT/OFFSET query (for
    observations, one more to read the page's rows, and one for the values they replaced).
    With `cursor_of`, the page also names the cursor of the page after it (`next_cursor`)."""
    total = cached_count(rows)
    if offset >= total:
        shown = []
    elif rows.model is Observation:
        # Observations: find the page's ids in the index first, then read those rows with
        # what they name, so that a deep offset skips ids, not joined rows.
        shown = observations_by_id(rows, page_ids(rows, total, offset, limit))
    else:
        shown = rows[offset : offset + limit]
    result = page_of(request, [shape(row) for row in shown], total, limit, offset)
    if cursor_of is not None:
        more = offset + limit < total
        result["next_cursor"] = cursor_of(shown[-1]) if more and shown else None
    return result


def page_of(request, items, total, limit, offset):
    """A page's answer: its items, the count and the links to the pages beside it."""

    def link(to):
        query = request.GET.copy()
        query["offset"], query["limit"] = to, limit
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return {
        "count": total,
        "limit": limit,
        "offset": offset,
        "next": link(offset + limit) if offset + limit < total else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "items": items,
    }


def observations_by_id(rows, ids):
    """The observations of these ids, in their order, each with what it replaced."""
    by_id = {o.pk: o for o in rows.filter(pk__in=ids).order_by()}
    return attach_replaced([by_id[pk] for pk in ids])


def page_ids(rows, total, offset, limit):
    """The ids of rows[offset : offset + limit]. A page in the back half is read from the
    end, in the reverse order, so the index skips at most half of the rows whatever the
    offset (the order is total: the current values end it with the id, the history with the
    edition, unique within a key)."""
    ids = rows.values_list("pk", flat=True)
    if offset <= total - offset - limit:
        return list(ids[offset : offset + limit])
    end = total - offset
    return list(ids.reverse()[max(end - limit, 0) : end])[::-1]


# --- Keyset (cursor) pages of the current observations ----------------------------------------

CURSOR_FIELDS = ("metric_id", "jurisdiction_id", "period_start", "period_end")


def encode_cursor(o):
    key = [o.metric_id, o.jurisdiction_id, o.period_start.isoformat(), o.period_end.isoformat()]
    text = json.dumps([*key, o.breakdown_id, o.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The key and id a cursor names; HttpError 400 for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        metric, place, start, end, breakdown, pk = json.loads(text)
        values = [int(metric), int(place), date.fromisoformat(start), date.fromisoformat(end)]
        return values, None if breakdown is None else int(breakdown), int(pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise HttpError(
            400, "cursor: not a cursor of this API. Use a page's `next_cursor` as it is."
        ) from None


def after_cursor(rows, cursor):
    """The rows after the cursor in the current values' order (the key, then the id). The
    key's leading columns are compared as one row value, so the index starts at the cursor;
    the breakdown (empty for totals, which PostgreSQL sorts last and SQLite first) and the id
    settle the rows of the same key."""
    key, breakdown, pk = decode_cursor(cursor)
    table = Observation._meta.db_table
    columns = ", ".join(f'"{table}"."{c}"' for c in CURSOR_FIELDS)
    holes = ", ".join(["%s"] * len(CURSOR_FIELDS))
    b, i = f'"{table}"."breakdown_id"', f'"{table}"."id"'
    nulls_last = connection.features.nulls_order_largest
    if breakdown is None:
        tail = f"({b} IS NULL AND {i} > %s)" if nulls_last else f"({b} IS NOT NULL OR {i} > %s)"
        tail_params = [pk]
    else:
        tail = f"({b} > %s OR ({b} = %s AND {i} > %s)" + (
            f" OR {b} IS NULL)" if nulls_last else ")"
        )
        tail_params = [breakdown, breakdown, pk]
    where = f"({columns}) >= ({holes}) AND (({columns}) > ({holes}) OR {tail})"
    return rows.extra(where=[where], params=[*key, *key, *tail_params])


def cursor_page(request, rows, limit, cursor):
    """One keyset page: the page's ids from the index from the cursor on, then their rows."""
    total = cached_count(rows)
    ids = list(after_cursor(rows, cursor).values_list("pk", flat=True)[: limit + 1])
    more, ids = len(ids) > limit, ids[:limit]
    shown = observations_by_id(rows, ids)
    following = encode_cursor(shown[-1]) if more else None
    query = request.GET.copy()
    query.pop("offset", None)
    query["cursor"], query["limit"] = following, limit
    return {
        "count": total,
        "limit": limit,
        "offset": 0,
        "next": request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        if following
        else None,
        "previous": None,
        "next_cursor": following,
        "items": [observation_out(o) for o in shown],
    }


def source_ref(source):
    return {
        "slug": source.slug,
        "publisher": source.publisher,
        "title": source.title,
        "edition": source.edition,
        "url": source.url,
        "data_as_of": source.data_as_of,
    }


def edition_values(o):
    """What one edition gave for a figure: its values, footnote and source."""
    return {
        "value": plain_number(o.value),
        "numerator": plain_number(o.numerator),
        "denominator": plain_number(o.denominator),
        "rank": o.rank,
        "footnote": o.footnote,
        "footnote_es": o.footnote_es,
        "source": source_ref(o.source),
    }


def observation_out(o):
    return {
        **edition_values(o),
        "metric": o.metric.slug,
        "unit": o.metric.unit,
        "jurisdiction": o.jurisdiction.code,
        "period": o.period,
        "period_start": o.period_start,
        "period_end": o.period_end,
        "breakdown": o.breakdown.slug if o.breakdown_id else None,
        "breakdown_label": o.breakdown.label if o.breakdown_id else None,
        "current": o.is_current,
        "replaced": [edition_values(r) for r in o.replaced],
    }


# --- Endpoints ------------------------------------------------------------------------------


@api.get("/jurisdictions", response={200: JurisdictionPage, **ERRORS}, tags=["reference"])
def jurisdictions(
    request,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    kind: Annotated[Jurisdiction.Kind, Query(None, description="Only this kind.")] = None,
):
    """The nation, states and territories, federal judicial districts and HHS regions."""
    rows = Jurisdiction.objects.order_by("kind", "code").values(
        "code", "name", "kind", "parent__code", "is_territory"
    )
    if kind:
        rows = rows.filter(kind=kind)

    def shape(j):
        return {**j, "parent": j.pop("parent__code")}

    return page(request, rows, limit, offset, shape)


@api.get("/metrics", response={200: MetricPage, **ERRORS}, tags=["reference"])
def metrics(request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0):
    """What is counted: each metric's definition, unit, breakdown categories and sources."""
    rows = (
        Metric.objects.order_by("slug")
        .select_related("dimension")
        .prefetch_related("sources", "dimension__categories")
    )

    def shape(m):
        return {
            "slug": m.slug,
            "label": m.label,
            "definition": m.definition,
            "unit": m.unit,
            "dimension": m.dimension.slug if m.dimension_id else None,
            "categories": [
                {"slug": c.slug, "label": c.label, "note": c.note}
                for c in (m.dimension.categories.all() if m.dimension_id else ())
            ],
            "sources": sorted(s.slug for s in m.sources.all()),
        }

    return page(request, rows, limit, offset, shape)


@api.get("/sources", response={200: SourcePage, **ERRORS}, tags=["reference"])
def sources(request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0):
    """Each published edition of each publication, newest edition first."""
    rows = Source.objects.order_by("-edition_year", "slug").values(*SourceOut.model_fields)
    return page(request, rows, limit, offset, dict)


@api.get("/observations", response={200: ObservationPage, **ERRORS}, tags=["figures"])
def observations(
    request,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    metric: Annotated[list[str], Query([], description="Metric slug; repeatable.")] = [],  # noqa: B006
    jurisdiction: Annotated[
        list[str],
        Query([], description="Jurisdiction code (US, a state's postal code...); repeatable."),
    ] = [],  # noqa: B006
    source: Annotated[list[str], Query([], description="Source edition slug; repeatable.")] = [],  # noqa: B006
    period_from: Annotated[
        int, Query(None, ge=FIRST_YEAR, description="Periods starting in this year or later.")
    ] = None,
    period_to: Annotated[
        int, Query(None, ge=FIRST_YEAR, description="Periods ending in this year or earlier.")
    ] = None,
    breakdown: Annotated[str, Query("", description=BREAKDOWN_HELP)] = "",
    history: Annotated[
        bool, Query(False, description="Also list each replaced value as its own item.")
    ] = False,
    cursor: Annotated[
        str,
        Query(
            "",
            max_length=200,
            description="A page's `next_cursor`: the page after it, instead of `offset`. "
            "Current values only (not with history).",
        ),
    ] = "",
    as_of: Annotated[str, Query("", max_length=40, description=AS_OF_HELP)] = "",
):
    """Published values with their sources: by default the current value of each figure,
    listing the older editions' values it replaced; with `as_of`, as they stood then."""
    filters = dict(
        metric=metric,
        jurisdiction=jurisdiction,
        source=source,
        period_from=period_from,
        period_to=period_to,
        breakdown=breakdown,
    )
    moment = as_of_moment(as_of)
    if moment is not None:
        if cursor:
            raise HttpError(400, "cursor: pages as of a past moment are read with `offset`.")
        then = FiguresAsOf.of(moment, history=history, **filters)
        items = [observation_out(o) for o in then.page(offset, limit, page_ids)]
        return page_of(request, items, then.total, limit, offset)
    rows = select_observations(history=history, **filters)
    if cursor and history:
        raise HttpError(400, "cursor: pages of the history are read with `offset`.")
    if cursor:
        return cursor_page(request, rows, limit, cursor)
    return page(
        request, rows, limit, offset, observation_out, cursor_of=None if history else encode_cursor
    )


ENDPOINTS = ["jurisdictions", "metrics", "sources", "observations"]
