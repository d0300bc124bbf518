"""Every list and figure of the seed documents on its page; search; the snippets' admin."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from wagtail.models import Page, Site

from pages.models import TopicPage
from portal.cache import invalidate_public_pages
from resources.models import Organization, Statute
from stats.models import Observation, attach_replaced
from stats.store.formatting import format_value
from tests.content_fixtures import SNIPPETS
from tests.factories import StatuteFactory

pytestmark = pytest.mark.django_db

STATUTES = [(s["citation"], s["title"], s.get("category", "")) for s in SNIPPETS["statutes"]]
ORGANIZATIONS = [(o["name"], o.get("kind", "")) for o in SNIPPETS["organizations"]]
PUBLICATIONS = [(p["title"], p.get("kind", "")) for p in SNIPPETS["publications"]]
FUNDING = [f["name"] for f in SNIPPETS["funding"]]
CAMPAIGNS = [c["name"] for c in SNIPPETS["campaigns"]]
REFERRAL_DIRECTORY = "https://humantraffickinghotline.org/training-resources/referral-directory"

SEX_VENUES = [
    "Online ad, venue unknown",
    "Residential brothels",
    "Hotel- or motel-based",
    "Commercial-front brothels",
    "Other venues",
]
LABOR_VENUES = [
    "Traveling sales crews",
    "Landscaping services",
    "Health and beauty services",
    "Restaurants and food services",
    "Agriculture",
]


def main_text(client, url):
    html = client.get(url).content.decode()
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return main


def words(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def in_order(text, items):
    positions = [text.index(item) for item in items]
    return positions == sorted(positions)


def test_statutes_on_the_laws_page_as_the_profile_lists_them(missouri_site, client):
    main = main_text(client, "/laws/")
    assert main.count('class="statute"') == len(STATUTES)
    for citation, title, _category in STATUTES:
        assert citation in main and title in unescape(main)
    # The profile's order, under its one heading: no category headings of the portal's own.
    shown = re.findall(r'<span class="statute__citation">(.*?)</span>', main)
    assert shown == [citation for citation, _title, _category in STATUTES]
    assert shown == ["§ 566.203", "§ 566.223", "§ 566.215.1", "§ 513.607", "§ 566.212", "§ 566.206"]
    assert '<h3 id="laws-' not in main
    assert (
        "<h2>Missouri Human Trafficking Laws (Sex Trafficking, Labor Trafficking, Safe Harbor, "
        in (main)
    )
    statutes = main.split('class="resource-list resource-list--statutes"', 1)[1]
    assert "href" not in statutes.split("</section>", 1)[0]  # the seed lost the links


def test_statute_link_to_official_text_when_an_editor_adds_it(missouri_site, client):
    statute = Statute.objects.get(citation="§ 566.206")
    statute.url = "https://example.test/566.206"
    statute.save_revision().publish()
    # The page cache is invalidated after commit, once per transaction; a test is one
    # transaction, so clear it here.
    cache.clear()
    main = main_text(client, "/laws/")
    assert '<a href="https://example.test/566.206"' in main


def test_collaborations_resources_funding_and_campaigns_on_statewide_efforts(missouri_site, client):
    main = main_text(client, "/statewide-efforts/")
    text = words(main)
    names = [name for name, _kind in ORGANIZATIONS]
    titles = [title for title, _kind in PUBLICATIONS]
    for item in names + titles + FUNDING + CAMPAIGNS:
        assert item in text, item
    assert in_order(text, names) and in_order(text, titles)
    # The victim service agencies figure, from the store, and the referral directory's address.
    assert (
        "Victim service agencies listed in the National Human Trafficking Referral Directory in "
        "Missouri" in text
    )
    assert re.search(r'<div class="key-figure__value">10</div>', main)
    assert f'href="{REFERRAL_DIRECTORY}"' in main
    # The lost links are left empty: the only link in the lists is none at all.
    lists = main.split('class="resource-list"', 1)[1]
    assert "<a " not in lists


def test_top_venues_on_the_state_profile(missouri_site, client):
    text = words(main_text(client, "/state-profile/"))
    for venues in (SEX_VENUES, LABOR_VENUES):
        for venue in venues:
            assert venue in text, venue
        assert in_order(text, venues)
    assert "Dec 2012 to Dec 2016" in text


def test_hotlines_on_get_help(missouri_site, client):
    main = main_text(client, "/get-help/")
    text = words(main)
    assert 'href="tel:+18883737888"' in main
    # Only what a source gives: the text number the hotline publishes, no relay.
    assert 'href="sms:233733"' in main and "Relay" not in text
    # The immediate-danger guidance comes first, once, and says that no source document gives it.
    assert text.count("If you are in immediate danger, call 911.") == 1
    assert text.index("call 911") < text.index("National Human Trafficking Hotline")
    assert 'href="tel:911"' in main
    assert "none of the documents the portal's figures come from gives it" in text
    assert "24/7" in text
    assert "More than 200 languages" in text
    assert "confidential" in text and "What you can contact this line for" in text
    assert "Missouri Attorney General Trafficking Tipline" in text
    assert 'href="tel:+18007001650"' in main
    assert "Chat" not in re.sub(r"<h2.*?</h2>", "", main)  # no chat link was sourced


def test_list_blocks_show_only_live_items_of_the_sites_state(missouri_site, client):
    another = Site.objects.create(hostname="other.localhost", root_page=Page.get_first_root_node())
    draft = StatuteFactory(title="A draft statute", live=False)
    other = StatuteFactory(title="Another state's statute", site=another)
    cache.clear()
    main = main_text(client, "/laws/")
    assert draft.title not in main and other.title not in main
    assert "§ 566.212" in main


def test_every_shipped_figure_is_on_a_page_with_its_source(missouri_site, client):
    """Each current value appears on some page; each older edition's as what that edition gave."""
    english = Page.objects.live().filter(depth__gte=2, locale__language_code="en")  # its words
    pages = {p.url: words(main_text(client, p.url)) for p in english.specific()}
    everything = " ".join(pages.values())
    current = attach_replaced(list(Observation.objects.all().current()))
    assert len(current) > 60
    missing = []
    for o in current:
        unit = o.metric.unit
        if unit == "rank":
            shown = o.breakdown.label  # a ranked list shows the venue, in order
        else:
            shown = format_value(o.value, unit, o.numerator, o.denominator)
        if shown not in everything:
            missing.append(f"{o}: {shown}")
        for older in o.replaced:
            if older.value != o.value:
                gave = f"the {older.source.edition} gave {format_value(older.value, unit)}"
                if gave not in everything:
                    missing.append(f"{o}: {gave}")
        if o.rank and format_value(o.rank, "rank").split()[0] not in everything:
            missing.append(f"{o}: rank {o.rank}")
    assert not missing
    for source in {o.source for o in current}:
        assert source.publisher in everything and source.edition in everything


def test_page_text_has_no_typed_figures(missouri_site):
    """Narrative text (rich text, headings, chart notes) holds no number other than a year."""
    year = re.compile(r"^(19|20)\d\d$")
    found = []
    for page in [*TopicPage.objects.all(), *Page.objects.filter(depth=2).specific()]:
        texts = [page.intro]
        for block in page.specific.body:
            if block.block_type == "text":
                texts.append(block.value.source)
            elif block.block_type == "heading":
                texts.append(block.value["heading"])
            elif block.block_type == "chart":
                texts += [block.value["title"], block.value["description"], block.value["note"]]
            elif block.block_type in ("key_figures",):
                texts.append(block.value["heading"])
                texts += [f["label"] for f in block.value["figures"]]
        for text in texts:
            # Rich text is stored as the editor stores it: "'" as "&#x27;", not a figure.
            plain = unescape(re.sub(r'href="[^"]*"', "", text or ""))
            for number in re.findall(r"\d[\d.,%]*", plain):
                if not year.match(number.rstrip(".,")):
                    found.append(f"{page.slug}: {number} in {plain[:80]!r}")
    assert not found


def test_the_misspelled_hotline_domain_is_not_linked(missouri_site, client):
    for page in Page.objects.live().filter(depth__gte=2).specific():
        assert "humanhumantrafficking" not in client.get(page.url).content.decode()


@pytest.mark.parametrize("query", ["566.206", "§ 566.206", "slavery", "Forced Labor"])
def test_search_finds_the_statute(missouri_site, client, query):
    main = main_text(client, f"/search/?q={query}")
    statute = Statute.objects.get(citation="§ 566.206")
    laws = TopicPage.objects.get(slug="laws")
    assert f'<a href="{laws.url}#statute-{statute.pk}">§ 566.206' in main


def test_search_finds_organizations_and_pages_but_not_drafts(missouri_site, client):
    Organization.objects.create(
        name="Draft Task Force",
        kind="task_force",
        live=False,
        site=Site.objects.get(is_default_site=True),
    )
    main = main_text(client, "/search/?q=task force")
    assert "Human Trafficking Task Force of Eastern Missouri" in main
    assert "Draft Task Force" not in main
    main = main_text(client, "/search/?q=restitution")
    assert '<a href="/federal-prosecutions/">Federal prosecutions</a>' in main
    assert "Nothing matched" in main_text(client, "/search/?q=zzyzx")


@pytest.fixture
def editor_client(client):
    user = User.objects.create_superuser("editor", "editor@example.test", "unused-password-1")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_resources_menu_lists_filters_exports_and_previews(missouri_site, editor_client):
    html = editor_client.get("/admin/").content.decode()
    assert "Resources" in html
    url = "/admin/snippets/resources/statute/"
    Statute.objects.filter(citation="§ 566.206").update(category="labor")
    html = editor_client.get(url, {"category": "labor"}).content.decode()
    assert "566.206" in html and "566.212" not in html
    html = editor_client.get(url, {"q": "566.206"}).content.decode()
    assert "566.206" in html and "513.607" not in html
    response = editor_client.get("/admin/snippets/resources/hotline/", {"export": "csv"})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"888-373-7888" in body and b"Region VII" in body  # the details' source
    statute = Statute.objects.get(citation="§ 566.206")
    preview = statute.make_preview_request()
    assert preview.status_code == 200
    assert "§ 566.206" in preview.content.decode()
    models = ("organization", "publication", "fundingopportunity", "campaign", "hotline")
    for model in (*models, "safetyguidance"):
        assert editor_client.get(f"/admin/snippets/resources/{model}/").status_code == 200
    # The hotlines list tells each pack's lines apart by language and site; a status, not True.
    listing = editor_client.get("/admin/snippets/resources/hotline/").content.decode()
    assert "Language" in listing and "English" in listing
    assert ">True<" not in listing and "Region VII" not in listing  # no long source column


def header_of(client, path):
    return client.get(path).content.decode().split("<header", 1)[1].split("</header>", 1)[0]


def test_header_hotlines_link_to_their_entries_and_sources(missouri_site, client):
    from resources.models import Hotline

    national = Hotline.objects.get(
        name="National Human Trafficking Hotline", locale__language_code="en"
    )
    header = header_of(client, "/laws/")
    assert f'href="/get-help/#hotline-{national.pk}"' in header
    assert header.count("Source, not yet checked") == 2  # neither line has been checked
    # The entry it links to names the source.
    assert f'id="hotline-{national.pk}"' in client.get("/get-help/").content.decode()
    Hotline.objects.filter(pk=national.pk).update(checked_on="2026-12-01", checked_by="An editor")
    invalidate_public_pages()  # as a save does: .update() sends no signal
    assert header_of(client, "/laws/").count("Source, not yet checked") == 1


def test_safety_guidance_in_spanish_first_on_get_help_and_in_callouts(missouri_site, client):
    text = words(main_text(client, "/es/obtener-ayuda/"))
    assert text.index("Si está en peligro inmediato, llame al 911.") < text.index("Línea Nacional")
    assert "Llame al 911" in text
    safety = words(main_text(client, "/staying-safe-online/"))
    assert "If you are in immediate danger, call 911." in safety
    assert "Clear calls and texts" in safety and "Recents" in safety
