"""The full downloads as files: built once per data version, served from Django's storage.

Every current figure (or the full history) of a scope, in CSV, XLSX and JSON, is written by a
background task (build_download, django-tasks: the `db_worker` runs it) into the "downloads"
storage (STORAGES; a folder under var/ by default, object storage by setting) under a name
holding the data version. A
request never reads the figures: it reads the data version (one primary-key lookup), answers
304 when the client holds that version, serves the stored file when it is built
(`Content-Length`, `ETag` = the data version, `Last-Modified`, one byte range), and
otherwise answers 503 with `Retry-After` and asks for the build. A file is never served for
another version than its own, so it is never partial nor stale.

A file `as_of` a past moment (the figures as they stood then, stats/opendata/as_of.py) is
built and served the same way, for the last step of the history at that moment (so every
moment between two steps shares one file) and the data version now.

A scope is "all" (the national site: every figure) or a state's code (a state site: the
state's figures and those of the places within it, such as its federal districts).
"""

import logging
import re
import tempfile
from datetime import timedelta

from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError
from django.db.models import Q
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django_tasks import task

from stats.exchange.common import CONTENT_TYPES
from stats.exchange.exporting import export_stream
from stats.models import DataVersion, DownloadFile, Jurisdiction
from stats.opendata import package
from stats.opendata.as_of import FiguresAsOf
from stats.opendata.downloads import EXPORT_VERSION, select_observations
from stats.store.history import moment_text, settled_moment

logger = logging.getLogger(__name__)
Status = DownloadFile.Status

STORAGE = "downloads"
FORMATS = ("csv", "xlsx", "json")
# The data package's own files (stats/opendata/package.py), built and served the same way.
PACKAGE_FORMATS = tuple(package.FILES)
# A build that has not finished (or failed) this long ago is asked for again.
RETRY_AFTER = 30
STALE_BUILD = timedelta(minutes=30)
CHUNK = 64 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def storage():
    return storages[STORAGE]


def version_now():
    """(value, changed_at) of the data version: one primary-key lookup."""
    row = DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("value", "changed_at")
    return row.first() or (0, None)


def etag_for(version, scope, fmt, history, as_of=None):
    """The data version, with what tells one full file from another."""
    kind = "history" if history else "current"
    then = f"-{as_of.timestamp():.6f}" if as_of else ""
    return f'"{version}-{scope}-{kind}{then}-{fmt}-{EXPORT_VERSION}"'


def file_name(scope, fmt, history, version, as_of=None):
    kind = "figures-history" if history else "figures"
    then = f"as-of-{moment_text(as_of)}-" if as_of else ""
    return f"{version}/{scope}/{then}{kind}-{EXPORT_VERSION}.{fmt}"


def scope_places(scope):
    """The ids of the places a scope's files hold; None for every place."""
    if scope == DownloadFile.NATIONAL:
        return None
    places = Jurisdiction.objects.filter(Q(code=scope) | Q(parent__code=scope))
    return list(places.values_list("pk", flat=True))


def scope_state(scope):
    """The state whose words a scope's files cite the editions in; None for "all"."""
    if scope == DownloadFile.NATIONAL:
        return None
    return Jurisdiction.objects.filter(code=scope, kind=Jurisdiction.Kind.STATE).first()


def scope_rows(scope, history, as_of=None):
    """The observations a scope's full download holds (as they stood at `as_of`)."""
    places = scope_places(scope)
    if as_of is not None:
        return FiguresAsOf.of(as_of, history=history, scope=places)
    rows = select_observations(history=history)
    return rows if places is None else rows.filter(jurisdiction_id__in=places)


# --- Building ---------------------------------------------------------------------------------


def request_build(scope, fmt, history, version, as_of=None):
    """Ask the worker for this file unless it is built, or a build was asked for lately.
    Returns the DownloadFile row."""
    key = {"scope": scope, "fmt": fmt, "history": history, "version": version, "as_of": as_of}
    try:
        row, created = DownloadFile.objects.get_or_create(**key)
    except IntegrityError:  # another request created it at the same moment
        return DownloadFile.objects.get(**key)
    if not created:
        if row.status == Status.READY or row.updated_at > timezone.now() - _retry_age(row):
            return row
        # Claim the retry: only the request whose update matched enqueues it.
        claimed = DownloadFile.objects.filter(pk=row.pk, updated_at=row.updated_at).update(
            status=Status.BUILDING, message="", updated_at=timezone.now()
        )
        if not claimed:
            return row
    try:
        build_download.enqueue(row.pk)
    except Exception:
        logger.exception("Could not ask for the download %s", row)
        DownloadFile.objects.filter(pk=row.pk).update(
            status=Status.FAILED, message="The build could not be queued."
        )
    row.refresh_from_db()
    return row


def _retry_age(row):
    return STALE_BUILD if row.status == Status.BUILDING else timedelta(seconds=RETRY_AFTER)


@task()
def build_download(download_id):
    """Build one full download; on failure the row says so and a later request asks again."""
    try:
        return build(download_id)
    except Exception:
        logger.exception("Building download %s failed", download_id)
        DownloadFile.objects.filter(pk=download_id).update(
            status=Status.FAILED, message="The build failed; see the worker's log."
        )
        raise


def build(download_id):
    """Write one file into the storage. Returns its status ("ready", "superseded"...)."""
    row = DownloadFile.objects.filter(pk=download_id).first()
    if row is None or row.status == Status.READY:
        return "gone" if row is None else row.status
    if DataVersion.current() != row.version:
        row.delete()  # figures changed since it was asked for: nobody will be served it
        return "superseded"
    name = file_name(row.scope, row.fmt, row.history, row.version, row.as_of)
    files = storage()
    if row.fmt in package.FILES:
        pieces = [package.package_file(row.fmt, row.scope, row.version)]
    else:
        rows = scope_rows(row.scope, row.history, row.as_of)
        pieces = export_stream(rows, row.fmt, scope_state(row.scope))
    with tempfile.TemporaryFile() as out:
        for piece in pieces:
            out.write(piece)
        size = out.tell()
        out.seek(0)
        if files.exists(name):
            files.delete(name)
        saved = files.save(name, File(out))
    if DataVersion.current() != row.version:
        # A change committed while the file was written: it may hold some of it.
        files.delete(saved)
        row.delete()
        return "superseded"
    DownloadFile.objects.filter(pk=row.pk).update(
        status=Status.READY, name=saved, size=size, message=""
    )
    drop_older(row)
    return Status.READY


def drop_older(row):
    """Delete the files of the same download at older data versions."""
    older = DownloadFile.objects.filter(
        scope=row.scope, fmt=row.fmt, history=row.history, version__lt=row.version
    )
    for old in older:
        if old.name:
            storage().delete(old.name)
        old.delete()


def rebuild_known(version, **kwargs):
    """On every change of figures (stats.signals.figures_changed, after the commit): build
    the new version of every download that was asked for before."""
    try:
        asked = DownloadFile.objects.filter(as_of__isnull=True)  # a past moment: when asked
        known = asked.values_list("scope", "fmt", "history").distinct()
        for scope, fmt, history in list(known):
            request_build(scope, fmt, history, version)
    except Exception:
        # The change is committed; a download not rebuilt now is built when asked for.
        logger.exception("Could not ask for the downloads of data version %s", version)


# --- Serving ----------------------------------------------------------------------------------


def serve(request, fmt, history, scope, as_of=None):
    """The built file of this scope at the current data version, or 304, 206, 416 or 503;
    with `as_of`, the file of the figures as they stood then."""
    version, changed_at = version_now()
    if as_of is not None:
        as_of = settled_moment(as_of)  # None: nothing changed since, the file of now
    etag = etag_for(version, scope, fmt, history, as_of)
    modified = changed_at.timestamp() if changed_at else None
    if request.method in ("GET", "HEAD"):
        not_modified = get_conditional_response(request, etag=etag, last_modified=modified)
        if not_modified is not None:
            return _headers(not_modified, etag, modified)
    key = {"scope": scope, "fmt": fmt, "history": history, "version": version, "as_of": as_of}
    row = DownloadFile.objects.filter(**key, status=Status.READY).first()
    if row is None:
        row = request_build(**key)
    if row.status != Status.READY:
        return not_built(row)
    response = _file_response(request, row, etag)
    if fmt in package.FILES:
        # Named as the package's descriptors name it, beside them under /data/package/.
        response["Content-Disposition"] = f'inline; filename="{package.FILES[fmt][0]}"'
        return _headers(response, etag, modified)
    kind = "figures-history" if history else "figures"
    prefix = "" if scope == DownloadFile.NATIONAL else f"{scope.lower()}-"
    then = f"-as-of-{as_of.strftime('%Y%m%dT%H%M%S')}" if as_of else ""
    response["Content-Disposition"] = f'attachment; filename="{prefix}{kind}{then}.{fmt}"'
    return _headers(response, etag, modified)


def not_built(row):
    if row.status == Status.FAILED:
        message = (
            "This download could not be built. It has been asked for again; try again in a "
            "minute. The API (/api/) and the filtered downloads answer meanwhile."
        )
    else:
        message = (
            "This download is being built for the newest figures; try again in a minute. "
            "It is never served before it is complete."
        )
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER)
    patch_cache_control(response, no_store=True)
    return response


def _headers(response, etag, modified):
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Accept-Ranges"] = "bytes"
    # Shared caches may keep a copy, but must check the ETag before serving it again.
    patch_cache_control(response, public=True, no_cache=True)
    return response


def byte_range(header, size):
    """(start, end) inclusive of one `bytes=` range; None to send the whole file (no header,
    several ranges, or a form not understood); "unsatisfiable" for a range past the end."""
    match = RANGE.match((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start > end and last and int(last) < start:
        return None  # an invalid range is ignored (RFC 9110, 14.1.1)
    if start >= size:
        return "unsatisfiable"
    return start, end


def _file_response(request, row, etag):
    content_type = package.FILES[row.fmt][1] if row.fmt in package.FILES else CONTENT_TYPES[row.fmt]
    wanted = None
    if_range = request.headers.get("If-Range")
    if if_range is None or if_range.strip() == etag:
        wanted = byte_range(request.headers.get("Range"), row.size)
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{row.size}"
        return response
    handle = storage().open(row.name, "rb")
    if wanted is None:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(row.size)
        return response
    start, end = wanted
    handle.seek(start)
    response = StreamingHttpResponse(
        _read(handle, end - start + 1), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {start}-{end}/{row.size}"
    response["Content-Length"] = str(end - start + 1)
    return response


def _read(handle, length):
    with handle:
        while length > 0:
            piece = handle.read(min(CHUNK, length))
            if not piece:
                return
            length -= len(piece)
            yield piece


FILTERS = ("metric", "jurisdiction", "source", "period_from", "period_to")


def wants_full_file(query):
    """A download of everything of the scope: no filter (any other parameter is ignored), and
    every breakdown."""
    chosen = any(value.strip() for name in FILTERS for value in query.getlist(name))
    every_breakdown = (query.get("breakdown") or "all").strip().lower() in ("", "all")
    return not chosen and every_breakdown
