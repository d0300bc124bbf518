"""Fact-check (issue 16) of the shipped Missouri site against the five seed documents.

Each test reads the element that shows a fact (a key figure, a table cell, a hotline's entry),
not the whole page, where the header's numbers could match by accident.
"""

import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from stats.models import Metric
from tests.content_fixtures import DATA_DIR

pytestmark = pytest.mark.django_db

SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"
SPOTLIGHT_CAVEAT = "The data do not represent the full scope of trafficking in Missouri."
PROFILE_CAVEAT = "The data do not represent actual numbers of cases identified or processed"


@pytest.fixture(scope="module")
def pages(missouri_pack, django_db_blocker):
    """Every public page of the shipped site, rendered once for this module's tests."""
    with django_db_blocker.unblock():
        cache.clear()
        with transaction.atomic():
            client = Client()
            urls = ["/", *(f"/{slug}/" for slug in PAGES), "/es/perfil-del-estado/", "/es/datos/"]
            rendered = {url: client.get(url).content.decode() for url in urls}
            user = User.objects.create_superuser("checker", "c@example.test", "unused-pass-1")
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            rendered["admin"] = client.get("/admin/").content.decode()
            rendered["metrics"] = {m.slug: m.definition for m in Metric.objects.all()}
            rendered["api"] = client.get("/api/metrics?limit=200").content.decode()
            transaction.set_rollback(True)  # leave the test database as it was
        cache.clear()
    return rendered


PAGES = [
    "federal-prosecutions",
    "hotline-statistics",
    "state-profile",
    "laws",
    "get-help",
    "statewide-efforts",
    "data",
]


def main_of(html):
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def text_of(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def label_of(figure):
    label = element(figure, 'class="key-figure__label"')
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", label))).strip()


def element(html, marker, after=0):
    """The whole element whose opening tag contains `marker` (the first after `after`)."""
    at = html.index(marker, after)
    start = html.rindex("<", 0, at)
    tag = re.match(r"<(\w+)", html[start:]).group(1)
    depth, pos = 0, start
    for m in re.finditer(rf"<(/?){tag}\b[^>]*>", html[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            pos = start + m.end()
            break
    return html[start:pos]


def elements(html, marker):
    found, at = [], 0
    while marker in html[at:]:
        el = element(html, marker, at)
        found.append(el)
        at = html.index(marker, at) + len(marker)
    return found


def key_figure(html, label):
    """The key figure whose label contains `label`, with its row's shared sources if any."""
    for row in elements(html, 'class="key-figures"'):
        for figure in elements(row, 'class="key-figure"'):
            if label in label_of(figure):
                shared = elements(row, 'class="key-figures__source"')
                return figure + "".join(shared)
    for figure in elements(html, 'class="key-figure"'):
        if label in label_of(figure):
            return figure
    raise AssertionError(f"no key figure labelled {label!r}")


def notes(el):
    """The numbered notes under a figure (footnotes and what each edition gave)."""
    return [
        text_of(n)
        for notes_list in elements(el, 'class="figure-notes__list"')
        for n in re.findall(r"<li>(.*?)</li>", notes_list, re.S)
    ]


# Finding 1: contact details name their source and whether they were checked.


def test_each_hotline_entry_names_its_source_and_that_it_is_not_yet_checked(pages):
    main = main_of(pages["/get-help/"])
    entries = elements(main, 'class="hotline"')
    assert len(entries) == 2
    national, state = (text_of(element(e, 'class="hotline__source"')) for e in entries)
    # The national line's text number is what the hotline itself publishes; its phone number
    # is also printed in the state profile.
    assert national.startswith(
        "Contact details as published in National Human Trafficking Hotline, the contact "
        "details it publishes"
    )
    assert 'state profile "Missouri: Efforts to Combat Human Trafficking"' in national
    assert state.startswith(
        "Contact details as published in U.S. Department of Health and Human Services, "
        'Region VII, state profile "Missouri: Efforts to Combat Human Trafficking"'
    )
    for source in (national, state):
        assert "not yet checked by the portal's editors" in source
    callout = element(main_of(pages["/"]), 'class="callout hotline-callout"')
    assert "Contact details as published in National Human Trafficking Hotline" in text_of(
        element(callout, 'class="hotline__source"')
    )


def test_no_contact_detail_that_no_source_gives(pages):
    for url in ["/", "/get-help/"]:
        html = pages[url]
        # The text number comes with the hotline's own published details as its source.
        assert 'href="sms:233733"' in html, url
        # (Figure anchors and citation moments are made-up hex and digits: left out.)
        text = re.sub(r"#figure-[0-9a-f]+|as_of=\S+", "", text_of(html))
        assert "711" not in text, url
        # 911 only in the portal's own safety guidance, which says that no source gives it.
        guidance = element(html, 'class="safety-guidance"')
        assert "911" in text_of(guidance), url
        assert "911" not in text_of(html.replace(guidance, "")), url
        assert "none of the documents the portal's figures come from gives it" in unescape(
            text_of(guidance)
        )


def test_the_footer_claims_only_what_is_true(pages):
    footer = text_of(element(pages["/"], 'class="site-footer"'))
    assert "Every figure on this site comes from a published source, named beside it." in footer
    assert (
        "Each hotline's entry names where its contact details come from and whether the "
        "portal's editors have checked them." in footer
    )


def test_the_error_page_gives_the_hotline_as_it_publishes_itself():
    html = (Path(settings.BASE_DIR) / "templates" / "500.html").read_text()
    assert 'href="tel:+18883737888"' in html and 'href="sms:233733"' in html
    assert "711" not in html and "911" not in html


# Finding 2: each source attributed as its document does.


SOURCE_SEEDS = {
    "hti-fhtr-2018": "001_8b968282b008c291.txt",
    "hti-fhtr-2020": "000_bd15a68fc347051a.txt",
    "nhth-2019-missouri": "003_d55e7a6734a84e07.txt",
    "hhs-r7-missouri-2016": "004_20f544d6bb65452c.txt",
}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not beside the repository")
def test_each_publisher_is_named_as_its_document_names_it():
    catalog = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))
    publishers = {s["slug"]: s["publisher"] for s in catalog["sources"]}
    for slug, seed in SOURCE_SEEDS.items():
        text = re.sub(r"\s+", " ", (SEEDS / seed).read_text(encoding="utf-8")).lower()
        publisher = publishers[slug].lower().replace(",", "")
        assert publisher in text.replace(",", ""), slug
    # The 2019 summary names no publisher: it is the same institute's.
    assert publishers["hti-fhtr-2019"] == publishers["hti-fhtr-2018"]


def test_hotline_figures_name_the_hotline_not_polaris(pages):
    main = main_of(pages["/hotline-statistics/"])
    sources = text_of(element(main, 'class="figure-sources"'))
    assert sources.startswith(
        "Source: National Human Trafficking Hotline, Missouri Spotlight: 2019 National Human "
        "Trafficking Hotline Statistics, 2019 statistics"
    )
    for url, html in pages.items():
        if isinstance(html, str):
            assert "Polaris" not in html, url


# Finding 3: the 2018 report's stack-up shows the 2018 edition's values, and marks others.


def test_the_2018_stack_up_shows_the_2018_editions_national_figures(pages):
    main = main_of(pages["/federal-prosecutions/"])
    table = next(
        t for t in elements(main, 'class="stack-up"') if "How does Missouri stack up? 2018" in t
    )
    rows = {
        text_of(cells[0]): [text_of(c) for c in cells[1:]]
        for cells in (
            re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
            for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        )
    }
    assert rows["New criminal human trafficking cases"] == ["4", "11th", "171"]
    assert rows["Convicted defendants"] == ["6", "15th", "346"]
    # The 2018 edition published no national active-case total: 644 is the 2019 edition's.
    assert rows["Active criminal human trafficking cases"] == ["16", "11th", "644 (2019 edition)"]


# Finding 4: exclusions belong to the figures that published them.


def test_no_metric_definition_states_an_exclusion(pages):
    for slug, definition in pages["metrics"].items():
        assert "exclude" not in definition.lower(), slug


def test_the_restitution_trend_notes_only_the_editions_that_excluded_defendants(pages):
    main = main_of(pages["/federal-prosecutions/"])
    chart = next(
        c
        for c in elements(main, 'class="chart chart--')
        if "<figcaption" in c and "Defendants ordered to pay restitution in Missouri</" in c
    )
    assert notes(chart) == [
        "2020: 2 of the convicted defendants were in cases where the government did not name a "
        "trafficking victim in the charging instrument. These defendants have been excluded for "
        "purposes of restitution calculations."
    ]
    assert "chart__note" not in chart
    # The label names Missouri ("...federal judges in Missouri..."): not said again after it.
    restitution_2019 = key_figure(main, "in Missouri ordered to pay restitution, 2019")
    assert "22%" in restitution_2019 and "excluded" not in restitution_2019


# Finding 5 and 6: a period the profile does not give; a zero read from words.


def test_the_agency_count_says_the_profile_gives_it_no_date(pages):
    for url in ["/", "/statewide-efforts/"]:
        figure = key_figure(
            main_of(pages[url]),
            "Victim service agencies listed in the National Human Trafficking Referral "
            "Directory in Missouri",
        )
        assert any(
            "gives no date for the listing: December 2012 to December 2016 is the period of the "
            "profile's hotline data" in n
            for n in notes(figure)
        ), url
        # The label names the state already: the place is not said twice, alone or in a row.
        assert label_of(figure).endswith("Directory in Missouri, Dec 2012 to Dec 2016"), url


def test_the_derived_zero_says_it_is_derived_from_the_reports_sentence(pages):
    figure = key_figure(main_of(pages["/federal-prosecutions/"]), "New criminal labor trafficking")
    assert '<div class="key-figure__value">0</div>' in figure
    assert notes(figure) == [
        'Missouri, 2018: Derived, not printed as a number: the report states "Missouri was 1 out '
        "of 49 states and territories that failed to initiate a criminal labor trafficking "
        'prosecution in 2018."'
    ]


# Finding 7: what each edition published, not "revised".


def test_the_2018_key_findings_say_what_each_edition_gave(pages):
    main = main_of(pages["/federal-prosecutions/"])
    figure = key_figure(main, "New criminal human trafficking cases, United States, 2018")
    # A section about the 2018 report shows that report's own value; the 2019 one in the note.
    assert '<div class="key-figure__value">171</div>' in figure
    assert "United States, 2018: the 2018 edition gives 171; the 2019 edition gives 170" in notes(
        figure
    )
    # Each figure's citation area, and the Revised mark of a value an edition restated, link
    # the public revisions log (not a word about a value beyond that link).
    text = re.sub(r'<a [^>]*href="(/es)?/data/revisions[^"]*">[^<]*</a>', "", main).lower()
    assert "revis" not in text and "restat" not in text


# Finding 8: types only where set.


def test_organizations_and_publications_carry_no_type_that_no_source_gives(pages):
    main = main_of(pages["/statewide-efforts/"])
    assert "resource-kind" not in main
    stand = [o for o in elements(main, 'class="organization"') if "Stand Against" in o]
    assert [text_of(o) for o in stand] == ["Stand Against Trafficking"]


# Finding 10: the misprinted link is shown corrected, and said to be misprinted.


def test_the_misprinted_statistics_link_is_shown_corrected(pages):
    profile = pages["/state-profile/"]
    assert 'href="https://humantraffickinghotline.org/state/missouri"' in profile
    assert "The profile misprinted this address" in unescape(profile)
    assert "humanhuman" not in profile


# Finding 11: caveats stay with their figures, the home page included.


def test_the_home_pages_figures_carry_their_sources_caveats(pages):
    main = main_of(pages["/"])
    for label in ["Human trafficking cases reported to the hotline", "Victims identified"]:
        assert SPOTLIGHT_CAVEAT in text_of(key_figure(main, label)), label
    agencies = key_figure(main, "Victim service agencies")
    assert PROFILE_CAVEAT in text_of(agencies)


def test_every_profile_chart_carries_the_profiles_caveat(pages):
    main = main_of(pages["/state-profile/"])
    charts = elements(main, 'class="chart chart--')
    ranked = elements(main, 'class="ranked-list"')
    assert len(charts) == 3 and len(ranked) == 2
    for el in charts + ranked:
        assert PROFILE_CAVEAT in text_of(element(el, 'class="figure-sources"'))
    intro = text_of(element(pages["/state-profile/"], 'class="intro"'))
    assert "Who the potential victims were" not in intro
    assert intro.startswith("Demographics of potential persons trafficked")


def test_every_demographic_chart_carries_the_profiles_note_from_the_data(pages):
    """The profile's asterisked note covers citizenship, gender and age: each chart shows it
    under itself (a footnote of its figures in the store), in both languages."""
    note = "These statistics are non-cumulative. Cases may involve multiple victims"
    for url in ["/state-profile/", "/es/perfil-del-estado/"]:
        charts = elements(main_of(pages[url]), 'class="chart chart--')
        assert len(charts) == 3, url
        for chart in charts:
            assert any(note in n for n in notes(chart)), (url, notes(chart))
    # Not typed as an editor's note in the pack's page bodies.
    profile = json.loads((DATA_DIR / "pages.json").read_text(encoding="utf-8"))
    assert "non-cumulative." not in json.dumps(
        [b["value"].get("note") for b in walk_blocks(profile) if b["type"] == "chart"]
    )


def walk_blocks(tree):
    """Every block of every page of a pack's page tree."""
    for page in [tree["home"]] if "home" in tree else tree:
        yield from page.get("body", [])
        yield from walk_blocks(page.get("children", []))


def test_every_caveat_is_the_sources_own_words():
    if not SEEDS.is_dir():
        pytest.skip("the seed documents are not beside the repository")
    catalog = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))
    seeds = " ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("0*.txt"))
    seeds = re.sub(r"\s+", " ", seeds).replace("data below", "data")
    caveats = [s["caveat"] for s in catalog["sources"] if s.get("caveat")]
    assert len(caveats) == 2
    for caveat in caveats:
        assert caveat in seeds


# Finding 12: a section nobody saw is not called a map.


def test_the_spotlights_locations_section_is_not_called_a_map(pages):
    main = main_of(pages["/hotline-statistics/"])
    section = main.split('id="locations"', 1)[1].split("<h2", 1)[0]
    assert "Locations of Trafficking" in section and "map" not in section.lower()


# A category note belongs to the metric whose source gives it.


def test_the_hotline_note_on_unspecified_types_is_not_on_court_metrics(pages):
    assert "typically a result of callers" not in pages["api"]
    assert "typically a result of callers" in pages["/hotline-statistics/"]


def test_the_data_page_calls_other_editions_values_published_not_corrections(pages):
    english, spanish = main_of(pages["/data/"]).lower(), main_of(pages["/es/datos/"]).lower()
    assert "values another edition published" in english
    assert not re.search(r"restatement|revised|correction", english)
    assert "publicó otra edición" in spanish
    assert not re.search(r"correcci|corrigi", spanish)
