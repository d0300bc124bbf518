"""What the site search reads: the text a visitor reads on a page, and a forgiving match for a
misspelt word.

A page's blocks show much that is not in its body's own text: the statutes, organizations and
hotlines a list block shows, the metric labels, categories and sources of its figures. So a
page is indexed by the text of its blocks as they render for a visitor (never the notes only
editors see in a preview). Wagtail's database backends (SQLite, PostgreSQL) have no fuzzy
match on every database, so a word no page uses is corrected to the closest word pages do use.
"""

import difflib
import functools
import json
import logging
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils.html import strip_tags
from wagtail.coreutils import get_dummy_request
from wagtail.models import Page

from resources.models import SNIPPET_MODELS, active_language, default_language
from stats.models import Category, Metric, Source

logger = logging.getLogger(__name__)

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
VOCABULARY_TIMEOUT = 600
MIN_CORRECTED_LENGTH = 4
SIMILARITY = 0.8
SYNONYMS = Path(__file__).with_name("search_synonyms.json")


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


def _vocabulary_texts(language):
    """Every text the search looks in, in one language, read from the database without
    rendering: that language's pages, its labels of figures, and the lists' items in it."""
    pages = Page.objects.live().public().filter(locale__language_code=language)
    for page in pages.specific():
        yield page.title
        yield page.search_description
        yield strip_tags(getattr(page, "intro", "") or "")
        body = getattr(page, "body", None)
        if body is not None:
            yield from _strings(body.raw_data)
    # Figures' labels in the language (Spanish beside English: label_es); the sources are
    # cited as published, in English, so only an English search corrects towards them.
    label = "label" if language == default_language() else f"label_{language}"
    yield from Metric.objects.values_list(label, flat=True)
    yield from Category.objects.values_list(label, flat=True)
    if language == default_language():
        for title, publisher in Source.objects.values_list("title", "publisher"):
            yield title
            yield publisher
    for model in SNIPPET_MODELS:
        fields = [
            f.field_name
            for f in model.search_fields
            if type(f).__name__ == "SearchField" and f.field_name != "citation"
        ]
        items = model.objects.filter(live=True, locale__language_code=language)
        for values in items.values_list(*fields):
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


def _vocabulary_key(language):
    latest = Page.objects.live().aggregate(latest=Max("last_published_at"))["latest"]
    return f"portal:search-vocabulary:{language}:{latest.isoformat() if latest else 'none'}"


def vocabulary(language=None):
    """The words one language's pages, figures and resources use, lower-cased (cached while no
    page is published): a Spanish search is corrected to Spanish words only."""
    language = language or active_language()
    key = _vocabulary_key(language)
    try:
        words = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that fails slows the search, never stops it
        words = None
    if words is None:
        words = sorted(
            {
                w.lower()
                for text in _vocabulary_texts(language)
                if text
                for w in WORD.findall(unescape(text))
            }
        )
        try:
            cache.set(key, words, VOCABULARY_TIMEOUT)
        except Exception:  # noqa: BLE001
            pass
    return words


def folded(word):
    """A word without its accents: "víctimas" -> "victimas" (a visitor may type either)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def corrected(query, language=None):
    """The query with each word no page of the language uses replaced by the closest word one
    does (accents aside: "vicitmas" -> "víctimas"); None when nothing was corrected."""
    words = vocabulary(language)
    known = set(words)
    by_folded = {}
    for word in words:
        by_folded.setdefault(folded(word), word)
    changed = False

    def fix(match):
        nonlocal changed
        word = match.group()
        if len(word) < MIN_CORRECTED_LENGTH or word.lower() in known or word.isdigit():
            return word
        close = difflib.get_close_matches(
            folded(word.lower()), list(by_folded), n=1, cutoff=SIMILARITY
        )
        if not close:
            return word
        changed = True
        return by_folded[close[0]]

    result = WORD.sub(fix, query)
    return result if changed else None


@functools.cache
def _synonyms():
    """{language: [(a compiled phrase, its replacement)]}, the longest phrases first."""
    with SYNONYMS.open(encoding="utf-8") as data:
        table = json.load(data)
    return {
        language: [
            (re.compile(rf"\b{re.escape(folded(phrase))}\b", re.IGNORECASE), other)
            for phrase, other in sorted(words.items(), key=lambda item: -len(item[0]))
        ]
        for language, words in table.items()
    }


def with_synonyms(query, language=None):
    """The query with each phrase of the synonym list (pages/search_synonyms.json) replaced by
    the words the pages of its language use ("tráfico" -> "trata"); None when none is."""
    # Folded a character at a time, so that a match's place is the same in the query.
    plain = "".join(folded(c) or c for c in query)
    result = query
    for phrase, other in _synonyms().get(language or active_language(), []):
        for match in reversed(list(phrase.finditer(plain))):
            start, end = match.span()
            result = result[:start] + other + result[end:]
            plain = plain[:start] + other + plain[end:]
    return result if result != query else None
