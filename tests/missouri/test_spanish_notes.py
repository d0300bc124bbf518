"""The Missouri pack's own notes and caveats in Spanish (issue 20): every footnote and every
source text it quotes has a Spanish rendering, and a Spanish page (or its embed) shows the
rendering, with the English kept only as a quotation marked lang="en"."""

import csv
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from wagtail.models import Locale, Page

from stats.models import Observation, Source, StateSourceText
from tests.missouri.test_spanish import visible_texts

PACK = Path(settings.BASE_DIR) / "packs" / "missouri"
QUOTED = [n for n in StateSourceText.RENDERINGS]  # methodology, limitations, caveat


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_every_note_of_the_pack_has_a_spanish_rendering():
    with open(PACK / "observations.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    noted = [r for r in rows if r["footnote"]]
    assert len(noted) == 14
    assert [r["footnote"] for r in noted if not r["footnote_es"]] == []
    assert [r["footnote_es"] for r in rows if r["footnote_es"] and not r["footnote"]] == []
    sources = json.loads((PACK / "catalog.json").read_text(encoding="utf-8"))["sources"]
    missing = [
        f"{s['slug']}.{name}"
        for s in sources
        for name in QUOTED
        if s.get(name) and not s.get(f"{name}_es")
    ]
    assert missing == []


def test_the_store_holds_the_renderings_the_pack_gives(missouri_site):
    assert not Observation.objects.exclude(footnote="").filter(footnote_es="").exists()
    spotlight = Source.objects.get(slug="nhth-2019-missouri")
    assert (
        spotlight.caveat_es == "Los datos no representan todo el alcance de la trata en Missouri."
    )
    assert spotlight.methodology_es.startswith("Los datos de este informe representan")


def pages_and_embeds(client):
    spanish = Locale.objects.get(language_code="es")
    for page in Page.objects.live().public().filter(locale=spanish, depth__gt=1).specific():
        html = client.get(page.get_url()).content.decode()
        yield page.get_url(), html
        for embed in sorted(set(re.findall(r'href="(/embed/\d+/[0-9a-f-]+/)"', html))):
            yield embed, client.get(embed).content.decode()


def test_no_english_note_or_caveat_is_shown_outside_a_quotation(missouri_site, client):
    english = {o.footnote for o in Observation.objects.exclude(footnote="")}
    for source in Source.objects.all():
        english.update(getattr(source, n) for n in QUOTED if getattr(source, n))
    # A sentence of each, long enough to be only that note's (each note's first sentence).
    sentences = {re.split(r"(?<=[.:])\s", text)[0] for text in english}
    seen_renderings = set()
    for where, html in pages_and_embeds(client):
        text = " ".join(visible_texts(html))
        assert [s for s in sentences if s in text] == [], where
        seen_renderings.update(
            o
            for o in Observation.objects.exclude(footnote_es="").values_list(
                "footnote_es", flat=True
            )
            if o in html
        )
    # Every note the pages show is there in Spanish: the eight distinct footnotes.
    assert len(seen_renderings) == 8


def test_the_spanish_hotline_page_gives_the_caveat_and_note_in_spanish_quoting_the_english(
    missouri_site, client
):
    html = client.get("/es/estadisticas-de-la-linea-de-ayuda/").content.decode()
    caveat = (
        '<span class="figure-sources__caveat">Los datos no representan todo el alcance de la trata '
        'en Missouri. (en inglés: <span lang="en">The data do not represent the full '
        "scope of trafficking in Missouri.</span>)</span>"
    )
    assert caveat in html
    assert "Los casos en los que no se especifica el tipo de trata" in html
    english = client.get("/hotline-statistics/").content.decode()
    assert (
        '<span class="figure-sources__caveat" lang="en">The data do not represent the full scope '
        "of trafficking in Missouri.</span>" in english
    )
    assert "en inglés:" not in english and "no se especifica" not in english


def test_the_name_of_an_english_standard_is_marked_english_on_the_spanish_data_page(
    missouri_site, client
):
    spanish = Locale.objects.get(language_code="es")
    data = Page.objects.get(slug="data", locale__language_code="en").get_translation(spanish)
    html = client.get(data.get_url()).content.decode()
    assert 'Metadatos <span lang="en">CSV on the Web</span> (CSVW)' in html
