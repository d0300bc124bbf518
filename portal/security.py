"""Security middleware and the hooks that django-axes calls (see settings.base).

Headers every response gets: SecurityMiddleware (nosniff, Referrer-Policy, HSTS in
production), XFrameOptionsMiddleware, django-permissions-policy's Permissions-Policy, and the
content policy of django-csp's CSPMiddleware, which PortalCSPMiddleware loosens for the Wagtail
admin's URLs only.
"""

import codecs
import csv
import io
import os
import re
import traceback

from axes.helpers import get_cool_off
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.datastructures import MultiValueDictKeyError

from stats.exchange.common import neutralise

# Why the admin needs more than the public pages' strict policy (Wagtail 8.0):
# - script-src 'unsafe-inline': panels and widgets (inline panels, date and time pickers,
#   multiple choosers) render inline <script> blocks; Wagtail has no nonce support for them
#   yet (wagtail/wagtail#1288).
# - style-src 'unsafe-inline': admin templates and Draftail set style="" attributes.
# - img-src blob:: image upload previews and the focal point chooser draw from blob: URLs.
# - frame-ancestors 'self': the live preview panel shows the page in an iframe of the admin.
# Only staff reach these URLs, and only after logging in (the login page shares the policy).
# No 'unsafe-eval': checked in Chromium on the dashboard, explorer, page editor with its preview
# and accessibility checks, snippet, image, document, import, user and settings screens.
ADMIN_PATH_PREFIX = "/admin/"  # as in portal/urls.py
ADMIN_CSP_REPLACE = {
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "frame-ancestors": ["'self'"],
}


class RequestSizeLimitMiddleware:
    """Refuses request bodies above PORTAL_MAX_REQUEST_BYTES.

    Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not uploaded files, which it
    streams to disk before any form can check their size. The cap here bounds every upload
    (spreadsheets, images, documents) before it is read; each form then applies its own,
    smaller limit with a readable message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.PORTAL_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit and length > limit:
            response = HttpResponse(
                f"The upload is too large: the limit is {limit // (1024 * 1024)} MB.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        else:
            response = self.get_response(request)
        return response


API_PATH_PREFIX = "/api/"  # as in portal/urls.py: errors there are JSON with a `detail`
NUL = "\x00"
NUL_MESSAGE = (
    "The address contains a null character (%00), which no search, filter or page name "
    "can hold. Remove it and try again."
)


class NullCharacterMiddleware:
    """Answers 400 to a request whose path or query string holds a NUL character.

    PostgreSQL refuses NUL in any text it is given, so such a value reaching a query (the
    search, an API or download filter, a page slug) would end in a 500. One check here covers
    every view; form fields already refuse NUL in posted data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or any(
            NUL in key or any(NUL in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path_info.startswith(API_PATH_PREFIX):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponse(NUL_MESSAGE, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def safe_cell(cell):
    """The project's formula guard (stats.exchange.common.neutralise) for one CSV cell;
    plain numbers such as -3 or 2.5 are left as they are."""
    return cell if NUMBER.match(cell) else neutralise(cell)


def safe_csv(chunks, charset="utf-8"):
    """Re-write a CSV given in byte chunks so that no cell starts a formula. Streams: rows are
    read and written as they come, whatever the chunks' boundaries."""
    decoder = codecs.getincrementaldecoder(charset)()

    bom = []  # a byte-order mark stays the file's first bytes, not part of its first cell

    def lines():
        pending = ""
        for chunk in chunks:
            pending += decoder.decode(chunk if isinstance(chunk, bytes) else chunk.encode())
            if not bom and pending:
                bom.append(pending.startswith("\ufeff"))
                pending = pending.removeprefix("\ufeff")
            *complete, pending = pending.split("\n")
            yield from (line + "\n" for line in complete)
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for row in csv.reader(lines()):
        if bom and bom[0]:
            out.write("\ufeff")
            bom[0] = False
        writer.writerow([safe_cell(cell) for cell in row])
        yield out.getvalue().encode(charset)
        out.seek(0)
        out.truncate()


class AdminSpreadsheetGuardMiddleware:
    """Every CSV the admin offers is safe to open in a spreadsheet.

    Wagtail's listings and reports (page titles in "Locked pages", "Aging pages", "Site
    history"...) export CSV as stored, and Wagtail leaves formula escaping to applications
    (its security notes say so). One guard here covers them all, the snippets' and import
    records' exports among them: every text cell that would start a formula gets a leading
    apostrophe. XLSX needs nothing: Wagtail writes text cells as text, never as formulas.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if not request.path_info.startswith(ADMIN_PATH_PREFIX) or not content_type.startswith(
            "text/csv"
        ):
            return response
        charset = response.charset or "utf-8"
        if response.streaming:
            response.streaming_content = safe_csv(response.streaming_content, charset)
        else:
            response.content = b"".join(safe_csv([response.content], charset))
        return response


def _from_editor_form_data(exception):
    """A ValueError raised while one of Wagtail's widgets reads a post (value_from_datadict):
    the block editor's counters, the rich-text editor's JSON."""
    if not isinstance(exception, ValueError):
        return False
    wagtail = f"{os.sep}wagtail{os.sep}"
    return any(
        frame.name == "value_from_datadict" and wagtail in frame.filename
        for frame in traceback.extract_tb(exception.__traceback__)
    )


class MalformedFormMiddleware:
    """A form post that lacks fields its form always sends answers 400, not 500.

    Wagtail's block editor reads its hidden fields (`body-count`, `body-0-type`...) from the
    post as they must be there, and a post without them (a hand-made or truncated request)
    raises MultiValueDictKeyError; a counter that is not a number (`body-count=abc`,
    `body-0-order=x`) or a rich-text field that is not the editor's JSON raises ValueError from
    the widget's `value_from_datadict`. Only those errors, on a POST, become "400 Bad Request"
    (a ValueError raised anywhere else stays a 500).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.method == "POST" and (
            isinstance(exception, MultiValueDictKeyError) or _from_editor_form_data(exception)
        ):
            return HttpResponseBadRequest(
                "The form was sent incomplete; reload the page and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return None


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's policy (ADMIN_CSP_REPLACE) for its URLs.

    Extends get_policy_parts, the hook django-csp documents for this. A view's own
    @csp_replace still wins.
    """

    @staticmethod
    def is_admin(request):
        # A preview is rendered through the middleware again with the page's public path
        # (Page.make_preview_request), and shown in the admin's preview panel: Wagtail marks
        # that inner request `is_preview`. It gets the admin's policy, so it may be framed.
        return request.path_info.startswith(ADMIN_PATH_PREFIX) or getattr(
            request, "is_preview", False
        )

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if parts.replace is None and self.is_admin(request):
            parts.replace = ADMIN_CSP_REPLACE
        return parts

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if self.is_admin(request):
            # Under `no-referrer` browsers send `Origin: null` with the admin's own form posts
            # (the login among them), which Django's CSRF check refuses. `same-origin` still
            # sends nothing to other sites.
            response["Referrer-Policy"] = "same-origin"
        return response


def lockout_response(request, original_response=None, credentials=None):
    """The page shown when django-axes refuses a login (AXES_LOCKOUT_CALLABLE).

    A refused attempt restarts the cool-off (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT),
    so the lockout ends one cool-off period from now.
    """
    cool_off = get_cool_off(request)
    context = {
        "cool_off": cool_off,
        "retry_after": timezone.now() + cool_off if cool_off else None,
        "admin_contact": settings.PORTAL_ADMIN_CONTACT,
    }
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
