"""The site in Spanish: /es/ beside English at /, the interface from the catalog, the figures
formatted for each language, translated pages and hotlines, discovery (language links,
hreflang, sitemap), search in each language, and an editor translating a page in the admin.
"""

import ast
import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from wagtail.models import Locale, Page

from resources.models import Hotline, Statute
from stats.store.formatting import format_value, ordinal
from stats.store.periods import describe_period
from tests.content_fixtures import load_missouri

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


# The catalog, read without gettext's tools: (context, msgid, plural, [msgstr...]) entries.


def read_catalog(path=CATALOG):
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip() or line.startswith("#"):
            if entry and not line.startswith("#"):
                entries.append(entry)
                entry = None
            if line.startswith("#,") and "fuzzy" in line:
                entry = entry or {"ctx": None, "id": "", "plural": None, "str": {}}
                entry["fuzzy"] = True
            continue
        if line.startswith('"'):
            chunk = ast.literal_eval(line)
        else:
            keyword, _, rest = line.partition(" ")
            chunk = ast.literal_eval(rest)
            entry = entry or {"ctx": None, "id": "", "plural": None, "str": {}}
            field = keyword
        if field == "msgctxt":
            entry["ctx"] = (entry["ctx"] or "") + chunk
        elif field == "msgid":
            entry["id"] += chunk
        elif field == "msgid_plural":
            entry["plural"] = (entry["plural"] or "") + chunk
        else:  # msgstr or msgstr[n]
            entry["str"][field] = entry["str"].get(field, "") + chunk
    return [e for e in entries if e["id"]]


def test_the_spanish_catalog_is_complete_and_not_fuzzy():
    entries = read_catalog()
    assert len(entries) > 100
    untranslated = [e["id"] for e in entries if not all(e["str"].values())]
    fuzzy = [e["id"] for e in entries if e.get("fuzzy")]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalog_is_in_use():
    with translation.override("es"):
        assert translation.gettext("Exit this page") == "Salir de esta página"


# Visible text of a page, without what is quoted as published in English (lang="en").


class VisibleText(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-label-show", "data-label-hide")

    def __init__(self):
        super().__init__()
        self.stack = []  # (tag, hides its content)
        self.texts = []

    def hidden(self):
        return any(hides for _tag, hides in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hides = tag in ("script", "style") or attrs.get("lang", "").startswith("en")
        if not self.hidden() and not hides:
            self.texts.extend(attrs[a] for a in self.ATTRIBUTES if attrs.get(a))
        if tag not in self.VOID:
            self.stack.append((tag, hides))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self.hidden() and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html):
    # The page's own <html lang="es"> is not a quotation: read from <head> on.
    parser = VisibleText()
    parser.feed(html.split(">", 2)[2] if html.lstrip().startswith("<!DOCTYPE") else html)
    return parser.texts


def english_fragments():
    """The English text of every catalog entry that Spanish writes differently: whole
    messages, and the runs of two or more words between placeholders."""
    whole, runs = set(), set()
    for e in read_catalog():
        for english in filter(None, (e["id"], e["plural"])):
            if english in e["str"].values():
                continue  # "Manual", "Local", "Chat": the same word in both languages
            text = re.sub(r"<[^>]+>", " ", english)
            parts = [" ".join(p.split()) for p in re.split(r"%\(\w+\)s|\{\w*\}|%%", text)]
            parts = [p.strip(" :.,;()“”") for p in parts]
            if len(parts) == 1:
                whole.add(parts[0])
            runs.update(p for p in parts if len(p.split()) >= 2)
    return whole, runs


def english_left(html):
    whole, runs = english_fragments()
    found = []
    for text in visible_texts(html):
        bare = text.strip(" :.,;()")
        if bare in whole:
            found.append(text)
        found.extend(f"{run!r} in {text!r}" for run in runs if run in text)
    return found


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request to /es/ leaves Spanish active in the thread; later tests expect English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def spanish_pages():
    spanish = Locale.objects.get(language_code="es")
    return list(Page.objects.live().public().filter(locale=spanish, depth__gt=1).specific())


def test_the_check_finds_english_that_is_left(missouri_site, client):
    html = client.get("/").content.decode()
    assert "Exit this page" in english_left(html)
    assert english_left('<p lang="en">Exit this page</p>') == []


def test_every_spanish_page_is_in_spanish(missouri_site, client):
    pages = spanish_pages()
    assert {p.slug for p in pages} >= {"inicio", "obtener-ayuda", "procesos-federales", "leyes"}
    paths = [p.get_url() for p in pages] + ["/es/search/?q=trata", "/es/no-existe/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        html = response.content.decode()
        assert '<html lang="es">' in html, path
        assert english_left(html) == [], path


def test_spanish_home_page(missouri_site, client):
    response = client.get("/es/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "La trata de personas en Missouri" in html
    # The quick exit and its hint, in Spanish.
    assert ">Salir de esta página</a>" in html
    assert "pulse 3 veces la tecla <kbd>Shift</kbd>" in html
    assert 'data-quick-exit-title="Cargando"' in html
    # The hotline in the header and the call-out, in Spanish, with the same tel: and sms: links.
    assert '<a class="hotline-bar__link" href="tel:+18883737888">Llame al 888-373-7888</a>' in (
        html
    )
    assert 'href="sms:233733">Envíe un texto al 233733</a>' in html
    assert "Línea Nacional contra la Trata de Personas" in html
    # Back to English, and no cookie for the visitor.
    assert '<a href="/" hreflang="en" lang="en">English</a>' in html
    assert not response.cookies


def test_each_english_page_links_its_spanish_alternate(missouri_site, client):
    english = Locale.objects.get(language_code="en")
    pages = Page.objects.live().public().filter(locale=english, depth__gt=1).specific()
    assert pages.count() >= 8
    for page in pages:
        spanish = page.get_translation(Locale.objects.get(language_code="es"))
        html = client.get(page.get_url()).content.decode()
        assert '<html lang="en">' in html
        es_url = spanish.get_url()
        assert f'<a href="{es_url}" hreflang="es" lang="es">Español</a>' in html, page.url
        root = missouri_site.root_url  # absolute URLs come from the Site, not the request
        assert f'<link rel="alternate" hreflang="es" href="{root}{es_url}">' in html
        assert f'<link rel="alternate" hreflang="en" href="{root}{page.url}">' in html


def test_a_page_without_translation_links_the_other_language_home(missouri_site, client):
    from pages.models import TopicPage

    home = Page.objects.get(locale__language_code="en", depth=2)
    page = home.add_child(instance=TopicPage(title="Only in English", slug="only-english"))
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert '<a href="/es/" hreflang="es" lang="es">Español</a>' in html
    assert 'hreflang="es" href=' not in html.split("</head>")[0]


def test_search_page_links_the_same_search_in_the_other_language(missouri_site, client):
    html = client.get("/search/").content.decode()
    assert '<a href="/es/search/" hreflang="es" lang="es">Español</a>' in html


def test_sitemap_lists_both_languages(missouri_site, client):
    xml = client.get("/sitemap.xml").content.decode()
    paths = re.findall(r"<loc>https?://[^/<]+(/[^<]*)</loc>", xml)
    assert {"/", "/es/", "/get-help/", "/es/obtener-ayuda/"} <= set(paths)
    english = Page.objects.live().public().filter(locale__language_code="en", depth__gt=1)
    assert len(paths) == 2 * english.count()


def test_language_comes_from_the_path_never_the_browser(missouri_site, client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="en">' in response.content.decode()
    assert response.status_code == 200  # no redirect to /es/
    response = client.get("/es/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="es">' in response.content.decode()


def test_cached_pages_are_kept_per_language(missouri_site, client):
    from portal.cache import cache_key

    rf_en = client.get("/").wsgi_request
    rf_es = client.get("/es/").wsgi_request
    assert cache_key(rf_en) != cache_key(rf_es)
    # Served from the cache the second time, each in its own language.
    assert '<html lang="en">' in client.get("/").content.decode()
    assert '<html lang="es">' in client.get("/es/").content.decode()


def test_get_help_in_spanish_shows_the_translated_hotlines(missouri_site, client):
    html = client.get("/es/obtener-ayuda/").content.decode()
    assert "Las 24 horas, los 7 días de la semana" in html
    assert "Comuníquese con la línea confidencial" in html
    assert 'href="tel:+18007001650">Llame al 800-700-1650</a>' in html


def test_figures_are_unchanged_and_formatted_in_spanish(missouri_site, client):
    en = client.get("/federal-prosecutions/").content.decode()
    es = client.get("/es/procesos-federales/").content.decode()
    assert "months" in en and "meses" in es
    # The same values in both: every data-value of the tables is identical.
    values = re.compile(r'data-value="([^"]*)"')
    assert values.findall(en) == values.findall(es)
    # Source titles stay as published, marked as English.
    assert 'lang="en">Human Trafficking Institute, Federal Human Trafficking Report' in es


def test_formatting_by_language():
    with translation.override("es"):
        assert format_value(Decimal("92"), "months") == "92 meses"
        assert format_value(Decimal("1"), "months") == "1 mes"
        assert format_value(Decimal("100"), "percent", 4, 4) == "100 % (4 de 4)"
        # Thousands grouped with a period, which a screen reader reads as one number (a
        # no-break space, Django's default, is read by some as two).
        assert format_value(Decimal("1234"), "count") == "1.234"
        assert format_value(Decimal("1234567.5"), "count") == "1.234.567,5"
        assert format_value(Decimal("7.5"), "months") == "7,5 meses"
        assert format_value(11, "rank") == "11.º en el país"
        assert ordinal(1) == "1.º"
        span = describe_period(datetime.date(2012, 12, 1), datetime.date(2016, 12, 31))
        assert span == "dic 2012 a dic 2016"
    with translation.override("en"):
        assert format_value(Decimal("92"), "months") == "92 months"
        assert format_value(Decimal("100"), "percent", 4, 4) == "100% (4 of 4)"
        assert format_value(Decimal("1234"), "count") == "1,234"
        assert format_value(11, "rank") == "11th in the nation"
        span = describe_period(datetime.date(2012, 12, 1), datetime.date(2016, 12, 31))
        assert span == "Dec 2012 to Dec 2016"


def test_statistics_labels_in_spanish(missouri_site, client):
    html = client.get("/es/perfil-del-estado/").content.decode()
    assert "Principales lugares de trata sexual" in html
    assert "Equipos de ventas ambulantes" in html  # a category label from the catalog
    assert "Extranjero" in html


def test_search_in_each_language(missouri_site, client):
    es = client.get("/es/search/", {"q": "restitución"}).content.decode()
    assert '<html lang="es">' in es
    assert 'href="/es/procesos-federales/"' in es
    assert 'href="/federal-prosecutions/"' not in es.split('id="results-pages"')[1]
    en = client.get("/search/", {"q": "restitution"}).content.decode()
    assert 'href="/federal-prosecutions/"' in en
    assert 'href="/es/procesos-federales/"' not in en.split('id="results-pages"')[1]


def test_loading_the_translations_again_changes_nothing(missouri_site):
    pages, hotlines = Page.objects.count(), Hotline.objects.count()
    assert "nothing to do" in load_missouri().summary()
    assert (Page.objects.count(), Hotline.objects.count()) == (pages, hotlines)


def test_the_spanish_pages_translate_every_text_of_their_blocks(missouri_site):
    """The pack's Spanish pages leave no English string of the English pages' blocks: the
    same blocks (figures, places, snippets), every word in Spanish."""
    from pages.state_pack import UNTRANSLATED_KEYS

    def strings(raw):
        if isinstance(raw, dict):
            for k, v in raw.items():
                if k not in UNTRANSLATED_KEYS:
                    yield from strings(v)
        elif isinstance(raw, list):
            for v in raw:
                yield from strings(v)
        elif isinstance(raw, str) and raw.strip():
            yield raw

    english = Locale.objects.get(language_code="en")
    spanish = Locale.objects.get(language_code="es")
    checked = 0
    for page in Page.objects.filter(locale=english, depth__gt=1).specific():
        translation = page.get_translation(spanish).specific
        assert [b.block_type for b in translation.body] == [b.block_type for b in page.body]
        left = set(strings(list(page.body.raw_data))) & set(
            strings(list(translation.body.raw_data))
        )
        assert left == set(), page.slug
        assert translation.title != page.title
        checked += 1
    assert checked >= 8


def test_an_editor_translates_a_page_in_the_admin_and_publishes_it(missouri_site, client):
    from django.contrib.auth import get_user_model
    from wagtail.test.utils.form_data import (
        inline_formset,
        nested_form_data,
        rich_text,
        streamfield,
    )

    from pages.models import TopicPage

    editor = get_user_model().objects.create_superuser("translator", "t@example.org", "pw")
    client.force_login(editor)
    home = Page.objects.get(locale__language_code="en", depth=2)
    page = home.add_child(instance=TopicPage(title="Staying safe", slug="staying-safe"))
    page.save_revision().publish()
    spanish = Locale.objects.get(language_code="es")

    response = client.post(
        reverse("simple_translation:submit_page_translation", args=[page.pk]),
        {"locales": [spanish.pk]},
    )
    assert response.status_code == 302
    draft = page.get_translation(spanish)
    assert not draft.live

    data = nested_form_data(
        {
            "title": "Mantenerse a salvo",
            "slug": "mantenerse-a-salvo",
            "intro": rich_text("<p>Cómo usar este sitio con cuidado.</p>"),
            "body": streamfield([]),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )
    response = client.post(reverse("wagtailadmin_pages:edit", args=[draft.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    cache.clear()
    public = client.get("/es/mantenerse-a-salvo/")
    assert public.status_code == 200
    html = public.content.decode()
    assert '<html lang="es">' in html and "Mantenerse a salvo" in html
    assert 'href="/staying-safe/" hreflang="en"' in html


def test_a_snippet_can_be_translated_in_the_admin(missouri_site, client):
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.create_superuser("translator2", "t2@example.org", "pw")
    client.force_login(editor)
    spanish = Locale.objects.get(language_code="es")
    statute = Statute.objects.first()
    response = client.post(
        reverse(
            "simple_translation:submit_snippet_translation",
            args=["resources", "statute", statute.pk],
        ),
        {"locales": [spanish.pk]},
    )
    assert response.status_code == 302
    assert statute.get_translation(spanish).translation_key == statute.translation_key
