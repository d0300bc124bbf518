"""Compressed responses: text is gzipped for browsers that accept it.

Django's GZipMiddleware (with its random padding against BREACH), limited to text: images,
XLSX files and fonts are compressed already, and gzipping them again costs CPU for nothing.
Public pages served from the page cache are compressed once, when they are stored
(portal/cache.py), not on every request; this middleware skips them, as they carry a
Content-Encoding.
"""

import re

from django.middleware.gzip import GZipMiddleware

TEXT_TYPES = re.compile(
    r"^(text/|application/(json|xml|javascript|ld\+json|problem\+json|rss\+xml)\b)"
)
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def accepts_gzip(request):
    return bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if getattr(response, "from_page_cache", False) or not TEXT_TYPES.match(
            response.get("Content-Type", "")
        ):
            return response
        return super().process_response(request, response)
