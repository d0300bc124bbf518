"""Fact-check (issue 16): each block says what its source says, no more. Made-up data only."""

import datetime
import re

import pytest
from django.contrib.auth.models import User
from wagtail.models import Page, Site

from pages.blocks import EditorNoteBlock
from pages.models import HomePage, TopicPage
from resources import blocks as resource_blocks
from resources.models import Hotline, Organization, Publication, Statute
from stats.display import blocks as stats_blocks
from tests.factories import ObservationFactory
from tests.test_blocks_render import (  # noqa: F401 - the `data` fixture
    chart_raw,
    figures_data,
    key_raw,
    preview_request,
    render,
)

pytestmark = pytest.mark.django_db


def cells_of(html):
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def notes_of(html):
    notes = re.search(r'<ol class="figure-notes__list">(.*?)</ol>', html, re.S)
    found = re.findall(r"<li>(.*?)</li>", notes.group(1), re.S) if notes else []
    return [re.sub(r"<[^>]+>", "", n).strip() for n in found]  # the notes' words


# Finding 3: a stack-up tied to a report edition shows that edition's values, and marks a value
# only another edition published.


@pytest.fixture
def stack_up_data(data):
    # The 2018 national figure: published by both editions, differently; and a national figure
    # for another metric that only the 2019 edition published for 2018.
    ObservationFactory(
        metric=data["cases"], jurisdiction=data["us"], year=2018, value=171, source=data["ed2018"]
    )
    ObservationFactory(
        metric=data["cases"], jurisdiction=data["us"], year=2018, value=170, source=data["ed2019"]
    )
    ObservationFactory(
        metric=data["months"], jurisdiction=data["mo"], year=2018, value=80, source=data["ed2018"]
    )
    ObservationFactory(
        metric=data["months"], jurisdiction=data["us"], year=2018, value=145, source=data["ed2019"]
    )
    return data


def stack_up_raw(data, edition=None):
    return {
        "heading": "How does Missouri stack up? 2018",
        "jurisdiction": data["mo"].pk,
        "year": 2018,
        "metrics": [data["cases"].pk, data["months"].pk],
        "edition": edition.pk if edition else None,
    }


def test_stack_up_of_an_edition_shows_its_own_values_and_marks_another_editions(stack_up_data):
    data = stack_up_data
    html = render(stats_blocks.StackUpBlock(), stack_up_raw(data, data["ed2018"]))
    cells = cells_of(html)
    # Missouri's 171 and the nation's 171 are the 2018 edition's own: unmarked.
    assert cells[1] == ["New cases", "171", "Not published", "171"]
    # The nation's 145 months exists only in the 2019 edition: it says so in its own cell.
    assert cells[2] == [
        "Time to sentence",
        "80 months",
        "Not published",
        "145 months (2019 edition)",
    ]
    assert (
        "New cases, United States, 2018: the 2018 edition gives 171; the 2019 edition gives 170"
        in (notes_of(html))
    )


def test_stack_up_without_an_edition_names_each_values_edition_when_they_differ(stack_up_data):
    data = stack_up_data
    html = render(stats_blocks.StackUpBlock(), stack_up_raw(data))
    cells = cells_of(html)
    # The current values: the 2019 edition's 170, beside the 2018 edition's 80 months.
    assert cells[1] == ["New cases", "170 (2019 edition)", "Not published", "170 (2019 edition)"]
    assert cells[2][1] == "80 months (2018 edition)"


def test_stack_up_of_one_edition_marks_nothing(data):
    raw = {
        "heading": "",
        "jurisdiction": data["mo"].pk,
        "year": 2019,
        "metrics": [data["cases"].pk, data["months"].pk],
        "edition": data["ed2019"].pk,
    }
    html = render(stats_blocks.StackUpBlock(), raw)
    assert "stack-up__edition" not in html


# Finding 7: what each edition published, not "revised from".


def test_key_figure_says_what_each_edition_gave_without_calling_it_a_revision(data):
    html = render(stats_blocks.KeyFigureBlock(), key_raw(data, "cases", year=2018))
    assert notes_of(html) == [
        "Missouri, 2018: the 2019 edition gives 170; the 2018 edition gave 171"
    ]
    # Each figure's citation area links the public revisions log; the figure's own words do
    # not call the other edition's value a revision.
    assert "revis" not in re.sub(r'<a href="/data/revisions[^"]*">[^<]*</a>', "", html)


# Finding 11: a source's caveat is shown wherever its figures are, by the figure templates.


def test_a_sources_caveat_is_shown_with_its_figures_in_every_figure_block(data):
    source = data["ed2019"]
    source.caveat = "The data do not represent the full scope of testing."
    source.save()
    caveat = (
        '<span class="figure-sources__caveat" lang="en">The data do not represent the full scope'
    )
    chart = render(stats_blocks.ChartBlock(), chart_raw(data))
    key = render(stats_blocks.KeyFigureBlock(), key_raw(data, "cases"))
    row = render(
        stats_blocks.KeyFigureRowBlock(),
        {"heading": "Row", "figures": [key_raw(data, "cases"), key_raw(data, "months")]},
    )
    stack = render(
        stats_blocks.StackUpBlock(),
        {"heading": "", "jurisdiction": data["mo"].pk, "year": 2019, "metrics": [data["cases"].pk]},
    )
    ranked = render(
        stats_blocks.RankedListBlock(),
        {
            "title": "Top",
            "metric": data["venue_rank"].pk,
            "jurisdiction": data["mo"].pk,
            "limit": 5,
        },
    )
    for html in (chart, key, row, stack, ranked):
        sources = html[html.index('class="figure-sources"') :]
        assert caveat in sources
    # A figure from an edition without a caveat shows none.
    older = render(stats_blocks.KeyFigureBlock(), key_raw(data, "cases", year=2017))
    assert "figure-sources__caveat" not in older


def default_site():
    return Site.objects.get(is_default_site=True)


# Finding 1: each hotline names the source of its contact details and when they were checked.


def hotline(**fields):
    defaults = {
        "name": "Test Hotline",
        "scope": "national",
        "phone": "888-555-0100",
        "live": True,
        "site": default_site(),
    }
    return Hotline.objects.create(**{**defaults, **fields})


def source_line(html):
    return re.sub(
        r"\s+",
        " ",
        re.sub(
            r"<[^>]+>", "", re.search(r'<p class="hotline__source">(.*?)</p>', html, re.S).group(1)
        ),
    ).strip()


def render_hotlines():
    return render(resource_blocks.HotlineListBlock(), {"heading": "Hotlines"})


def test_hotline_shows_its_source_and_the_day_it_was_checked(db):
    hotline(
        source_name="Test Hotline: contact us",
        source_url="https://example.org/contact",
        checked_on=datetime.date(2026, 11, 30),
    )
    html = render_hotlines()
    assert source_line(html) == (
        "Contact details as published in Test Hotline: contact us; checked by the portal's "
        "editors on November 30, 2026."
    )
    assert (
        '<a href="https://example.org/contact" rel="noreferrer">Test Hotline: contact us</a>'
        in html
    )


def test_hotline_names_who_checked_its_details(db):
    hotline(
        source_name="Test Hotline: contact us",
        checked_on=datetime.date(2026, 11, 30),
        checked_by="R. Editor",
    )
    assert source_line(render_hotlines()) == (
        "Contact details as published in Test Hotline: contact us; checked by R. Editor on "
        "November 30, 2026."
    )


def test_hotline_with_a_source_not_yet_checked_says_so(db):
    hotline(source_name="A printed profile")
    assert source_line(render_hotlines()) == (
        "Contact details as published in A printed profile; not yet checked by the portal's "
        "editors against what the hotline itself publishes."
    )


def test_hotline_without_a_source_is_marked_as_editor_maintained(db):
    hotline(relay="711", checked_on=datetime.date(2026, 11, 2))
    assert source_line(render_hotlines()) == (
        "Contact details kept by the portal's editors, last checked on November 2, 2026; "
        "no published source is named for them."
    )
    Hotline.objects.update(checked_on=None)
    assert source_line(render_hotlines()) == (
        "Contact details kept by the portal's editors: no published source is named for them, "
        "and they have not been checked yet."
    )


def test_hotline_callout_shows_the_source_of_its_contact_details(db):
    line = hotline(source_name="A printed profile")
    html = render(resource_blocks.HotlineCalloutBlock(), {"hotline": line.pk, "message": ""})
    assert "Contact details as published in A printed profile" in source_line(html)


# Finding 8 and 9: a type or category only where someone set it; a source's order kept.


def test_organizations_and_publications_show_a_type_only_where_one_is_set(db):
    site = default_site()
    Organization.objects.create(name="Untyped Group", live=True, sort_order=0, site=site)
    Organization.objects.create(
        name="Typed Group", kind="coalition", live=True, sort_order=1, site=site
    )
    Publication.objects.create(title="Untyped Paper", live=True, site=site)
    orgs = render(resource_blocks.OrganizationListBlock(), {"heading": "", "kinds": []})
    untyped = re.search(r'<li[^>]*class="organization">(.*?)</li>', orgs, re.S).group(1)
    assert "Untyped Group" in untyped and "resource-kind" not in untyped
    assert '<span class="resource-kind">(coalition)</span>' in orgs
    pubs = render(resource_blocks.PublicationListBlock(), {"heading": "", "kinds": []})
    assert "Untyped Paper" in pubs and "resource-kind" not in pubs


def test_statutes_without_categories_keep_the_editors_order_under_no_heading_of_our_own(db):
    site = default_site()
    for position, citation in enumerate(["§ 3", "§ 1", "§ 2"]):
        Statute.objects.create(
            citation=citation, title=f"T{citation}", sort_order=position, live=True, site=site
        )
    html = render(resource_blocks.StatuteListBlock(), {"heading": "Laws", "category": ""})
    assert re.findall(r'statute__citation">(.*?)<', html) == ["§ 3", "§ 1", "§ 2"]
    assert "<h3" not in html


# Finding 10: a note for editors is never shown to visitors, and the dashboard lists it.


def test_editor_note_is_shown_in_previews_only():
    block = EditorNoteBlock()
    raw = "Confirm the address: the document misspells it."
    assert render(block, raw).strip() == ""
    assert "Confirm the address" in render(block, raw, request=preview_request())


def test_the_admin_dashboard_lists_the_notes_for_editors(client):
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="Home", slug="home-test"))
    home.add_child(
        instance=TopicPage(
            title="Profile",
            slug="profile",
            body=[("editor_note", "Confirm the lost link.")],
        )
    )
    user = User.objects.create_superuser("editor", "e@example.test", "unused-password-1")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get("/admin/").content.decode()
    panel = html[html.index('id="editor-notes-content"') :]
    assert "Profile</a>: Confirm the lost link." in panel
    # Visitors never see it: the live page renders without the note.
    Site.objects.update(root_page=home)
    client.logout()
    response = client.get("/profile/")
    assert response.status_code == 200
    assert "Confirm the lost link." not in response.content.decode()
