"""The downloads' view (/data/download/<fmt>/): the full files of a scope, built per data
version (stats/opendata/files.py), or the figures a filter chose, streamed when they are few
enough. Rate-limited per client as the API is (PORTAL_DOWNLOAD_RATE)."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from stats.models import DownloadFile
from stats.opendata import files, package
from stats.opendata.api import ClientThrottle
from stats.opendata.as_of import FiguresAsOf, as_of_moment
from stats.opendata.downloads import (
    FilterError,
    download_etag,
    download_problem,
    filtered_download,
    filters_from_query,
    places_named,
    select_observations,
    wants_history,
)


class DownloadThrottle(ClientThrottle):
    """Its own count per client, apart from the API's."""

    scope = "downloads"


class PlaceThrottle(ClientThrottle):
    """The place chooser's own count per client (a few requests per place typed)."""

    scope = "places"


throttle = DownloadThrottle(settings.PORTAL_DOWNLOAD_RATE)
place_throttle = PlaceThrottle(settings.PORTAL_API_RATE)


def too_many(wait):
    seconds = max(int(wait or 1), 1)
    response = HttpResponse(
        f"Too many downloads from your address; try again in {seconds} seconds.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response


@require_safe
def data_download(request, fmt, scope=DownloadFile.NATIONAL):
    """Observations as a CSV, XLSX or JSON file: the exchange format plus source details.

    Without filters, the scope's full file (every current figure, or with history=1 every
    edition's); `scope` is "all" or the code of the state a state site shows."""
    if not throttle.allow_request(request):
        return too_many(throttle.wait())
    history = wants_history(request.GET)
    try:
        as_of = as_of_moment(request.GET.get("as_of"))
    except FilterError as e:
        return download_problem(request, str(e))
    if files.wants_full_file(request.GET):
        return files.serve(request, fmt, history, scope, as_of)
    version, changed_at = files.version_now()
    etag = download_etag(request, fmt, version, scope)
    modified = changed_at.timestamp() if changed_at else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=modified)
    if not_modified is not None:
        return not_modified
    try:
        if as_of is None:
            rows = select_observations(history=history, **filters_from_query(request.GET))
        else:
            rows = FiguresAsOf.of(as_of, history=history, **filters_from_query(request.GET))
    except FilterError as e:
        return download_problem(request, str(e))
    most = settings.STATS_FILTERED_DOWNLOAD_MAX_ROWS
    total = rows.total if as_of is not None else None
    state = files.scope_state(scope)
    response = filtered_download(request, fmt, rows, history, most, total, state=state)
    if response.status_code == 200:
        response["ETag"] = etag
    return response


# The files of a scope's data package under /data/package/<name>: (format, history).
PACKAGE_NAMES = {
    "figures.csv": ("csv", False),
    "figures-history.csv": ("csv", True),
    **{name: (fmt, False) for fmt, (name, _type) in package.FILES.items()},
}


@require_safe
def package_file(request, name, scope=DownloadFile.NATIONAL):
    """One file of the scope's data package: the full CSV downloads under the names the
    package gives them, its metric and place tables, and its descriptors (Frictionless and
    CSVW), each built per data version as the downloads are."""
    if name not in PACKAGE_NAMES:
        raise Http404("No such file in the data package.")
    if not throttle.allow_request(request):
        return too_many(throttle.wait())
    fmt, history = PACKAGE_NAMES[name]
    return files.serve(request, fmt, history, scope)


@require_safe
def place_choices(request):
    """The places with figures matching what was typed (?q=), for the data page's place
    chooser: at most ten, as JSON [{"code", "name"}], named in the language asked for
    (?lang=es). Rate-limited per client as the API is."""
    if not place_throttle.allow_request(request):
        return too_many(place_throttle.wait())
    text = (request.GET.get("q") or "")[:80]
    language = request.GET.get("lang")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        places = [{"code": code, "name": name} for code, name in places_named(text)]
    response = JsonResponse({"places": places})
    response["Cache-Control"] = "public, max-age=300"
    return response
