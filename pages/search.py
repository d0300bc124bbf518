"""What the site search reads: the text a visitor reads on a page, and a forgiving match for a
misspelt word.

A page's blocks show much that is not in its body's own text: the statutes, organizations and
hotlines a list block shows, the metric labels, categories and sources of its figures. So a
page is indexed by the text of its blocks as they render for a visitor (never the notes only
editors see in a preview). Wagtail's database backends (SQLite, PostgreSQL) have no fuzzy
match on every database, so a word no page uses is corrected to the closest word pages do use.
"""

import difflib
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from html import unescape
from html.parser import HTMLParser

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils.html import strip_tags
from wagtail.coreutils import get_dummy_request
from wagtail.models import Page

from resources.models import SNIPPET_MODELS
from stats.models import Category, Metric, Source

logger = logging.getLogger(__name__)

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
VOCABULARY_TIMEOUT = 600
MIN_CORRECTED_LENGTH = 4
SIMILARITY = 0.8


class _TextOf(HTMLParser):
    """The text of an HTML fragment, without scripts (a chart's JSON data), styles or
    templates."""

    SKIPPED = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def text_of(html):
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def _visitor_request(page):
    """A GET of the page as an anonymous visitor on its site would make it."""
    request = get_dummy_request(path=page.get_url_parts()[2], site=page.get_site())
    request.user = AnonymousUser()
    return request


# While a state pack loads, each save would render its page to index it (most of the load's
# time); the loader indexes its pages once, rendered, at the end instead.
_deferred = ContextVar("pages.search.deferred", default=False)


@contextmanager
def rendering_deferred():
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def rendered_body_text(page):
    """The text of a page's blocks as they render for a visitor; the body's own text if they
    cannot be rendered (the page is then still found by its words)."""
    if _deferred.get() or page.get_site() is None:  # being built: no visitor sees it yet
        return " ".join(page.body.stream_block.get_searchable_content(page.body))
    try:
        request = _visitor_request(page)
        context = page.get_context(request)
        return text_of(render_to_string("pages/includes_body.html", context, request=request))
    except Exception:  # noqa: BLE001 - indexing must never stop a page from being saved
        logger.warning(
            "Indexing page %s: its blocks did not render; indexing its text", page.pk, exc_info=True
        )
        return " ".join(page.body.stream_block.get_searchable_content(page.body))


# The forgiving match.


def _vocabulary_texts():
    """Every text the search looks in, read from the database without rendering."""
    for page in Page.objects.live().public().specific():
        yield page.title
        yield page.search_description
        yield strip_tags(getattr(page, "intro", "") or "")
        body = getattr(page, "body", None)
        if body is not None:
            yield from _strings(body.raw_data)
    yield from Metric.objects.values_list("label", flat=True)
    yield from Category.objects.values_list("label", flat=True)
    for title, publisher in Source.objects.values_list("title", "publisher"):
        yield title
        yield publisher
    for model in SNIPPET_MODELS:
        fields = [
            f.field_name
            for f in model.search_fields
            if type(f).__name__ == "SearchField" and f.field_name != "citation"
        ]
        for values in model.objects.filter(live=True).values_list(*fields):
            yield from values


def _strings(data):
    """Every string in a body's raw data (its text, headings, captions), read without turning
    its choosers into objects, which would cost a query each."""
    if isinstance(data, str):
        yield strip_tags(data)
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _strings(value)
    elif hasattr(data, "raw_data"):
        yield from _strings(list(data.raw_data))


def _vocabulary_key():
    latest = Page.objects.live().aggregate(latest=Max("last_published_at"))["latest"]
    return f"portal:search-vocabulary:{latest.isoformat() if latest else 'none'}"


def vocabulary():
    """The words pages, figures and resources use, lower-cased (cached while no page is
    published)."""
    key = _vocabulary_key()
    try:
        words = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that fails slows the search, never stops it
        words = None
    if words is None:
        words = sorted(
            {
                w.lower()
                for text in _vocabulary_texts()
                if text
                for w in WORD.findall(unescape(text))
            }
        )
        try:
            cache.set(key, words, VOCABULARY_TIMEOUT)
        except Exception:  # noqa: BLE001
            pass
    return words


def corrected(query):
    """The query with each word no page uses replaced by the closest word one does; None when
    nothing was corrected."""
    words = vocabulary()
    known = set(words)
    changed = False

    def fix(match):
        nonlocal changed
        word = match.group()
        if len(word) < MIN_CORRECTED_LENGTH or word.lower() in known or word.isdigit():
            return word
        close = difflib.get_close_matches(word.lower(), words, n=1, cutoff=SIMILARITY)
        if not close:
            return word
        changed = True
        return close[0]

    result = WORD.sub(fix, query)
    return result if changed else None
