"""Search in each language with that language's words: corrections towards the language's own
pages, accents aside, and the synonym list (pages/search_synonyms.json)."""

import re

import pytest

from pages.search import corrected, with_synonyms


def page_results(html):
    block = html.split('id="results-pages"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'href="([^"]+)"', block)


def correction(html):
    found = re.search(r'<p class="search-corrected">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def test_a_spanish_misspelling_is_corrected_to_spanish(missouri_site, client):
    html = client.get("/es/search/", {"q": "vicitmas"}).content.decode()
    assert "víctimas" in correction(html) and "victims" not in correction(html)
    assert page_results(html) and all(url.startswith("/es/") for url in page_results(html))
    assert corrected("vicitmas", "es") == "víctimas"
    assert corrected("vicitms", "en") == "victims"


def test_a_spanish_word_without_accents_is_not_corrected_to_english(missouri_site, client):
    html = client.get("/es/search/", {"q": "explotacion"}).content.decode()
    assert "exploitation" not in html.split('id="results-pages"')[0]
    assert page_results(html) and all(url.startswith("/es/") for url in page_results(html))


@pytest.mark.parametrize("query", ["explotación", "trabajo forzoso", "tráfico", "Tráfico"])
def test_spanish_words_find_spanish_pages(missouri_site, client, query):
    html = client.get("/es/search/", {"q": query}).content.decode()
    results = page_results(html)
    assert results and all(url.startswith("/es/") for url in results), query


def test_the_synonym_list_replaces_whole_phrases_in_its_language():
    assert with_synonyms("Tráfico de personas", "es") == "trata de personas"
    assert with_synonyms("trafico", "es") == "trata"
    assert with_synonyms("trabajo forzoso en Missouri", "es") == "trata laboral en Missouri"
    assert with_synonyms("trata", "es") is None
    assert with_synonyms("tráfico", "en") is None
    assert with_synonyms("women", "en") == "female"
