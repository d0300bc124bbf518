"""One install, many states: state packs loaded side by side, each served on its own host.

Missouri is the shipped pack; Testland (tests/packs/testland/) is made up for these tests and
never shipped. Both share the statistics store, so both show the national figures.
"""

import datetime
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from wagtail.models import GroupPagePermission, Page, Revision, Site

from pages.models import HomePage, SiteSettings
from pages.state_pack import Loader
from resources.models import Hotline, Statute
from stats.models import Jurisdiction, Observation, Source, StateSourceText
from tests.content_fixtures import DATA_DIR as MISSOURI

TESTLAND = Path(__file__).parent / "packs" / "testland"
pytestmark = pytest.mark.django_db


def load_state(path, **options):
    out = io.StringIO()
    call_command("load_state", str(path), stdout=out, **options)
    return out.getvalue()


def snapshot():
    """Everything a pack may create or change, as comparable values."""
    return {
        "pages": list(Page.objects.order_by("path").values_list("pk", "path", "title", "live")),
        "revisions": Revision.objects.count(),
        "sites": list(Site.objects.order_by("pk").values()),
        "settings": list(SiteSettings.objects.order_by("pk").values()),
        "statutes": list(Statute.objects.order_by("pk").values_list("pk", "site", "title")),
        "hotlines": list(Hotline.objects.order_by("pk").values_list("pk", "site", "name")),
        "observations": list(Observation.objects.order_by("pk").values_list("pk", "value")),
    }


def get(client, host, path="/"):
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200, (host, path, response.status_code)
    return response.content.decode()


def without_sources(html):
    """The page without the source citations (a source's title is what it publishes)."""
    html = re.sub(r'<div class="key-figures?__source">.*?</div>\s*</div>', "", html, flags=re.S)
    # "Cite this" names the sources too, and so does the page's Dataset markup (its citations).
    html = re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.S)
    return re.sub(r'<p class="figure-actions__cite".*?</p>', "", html, flags=re.S)


@pytest.fixture
def two_states(db):
    load_state(MISSOURI, hostname="127.0.0.1", port=8000)
    load_state(TESTLAND)
    return Site.objects.get(hostname="127.0.0.1"), Site.objects.get(hostname="testland.localhost")


def test_each_host_serves_its_own_state(two_states, client):
    missouri, testland = two_states
    assert missouri.is_default_site and not testland.is_default_site
    assert SiteSettings.for_site(testland).jurisdiction.code == "TL"

    home = get(client, "testland.localhost")
    header = home.split("</header>")[0]
    assert "Testland Human Trafficking Data Portal" in header
    assert 'href="tel:+15550100199"' in header and "Testland Helpline" in header
    assert "Testland Night Line" not in header  # only the lines the settings name
    assert (
        "<h1>Human trafficking in Testland</h1>" in home or "Human trafficking in Testland" in home
    )
    # Its own figure, in the key figure's own element, and the nation's from the shared store.
    assert re.search(r'<div class="key-figure__value">41\b', home)
    national = Observation.objects.get(
        metric__slug="new-criminal-cases", jurisdiction__code="US", period_start__year=2019
    )
    assert re.search(
        rf'<li class="key-figure__national">United States: {national.value:.0f}\b', home
    ), "the national figure beside Testland's"
    laws = get(client, "testland.localhost", "/laws/")
    assert "§ 1.101" in laws and "§ 566.206" not in laws
    assert "Testland Night Line" in laws
    for html in (home, laws):
        assert "Missouri" not in without_sources(html)

    missouri_home = get(client, "127.0.0.1:8000")
    assert "Missouri Human Trafficking Data Portal" in missouri_home
    assert "Testland" not in missouri_home
    assert re.search(
        rf'<div class="key-figure__value">{national.value:.0f}\b',
        get(client, "127.0.0.1:8000", "/federal-prosecutions/"),
    )
    assert "Testland" not in get(client, "127.0.0.1:8000", "/laws/")
    # A host no site claims gets the default site.
    assert "Missouri Human Trafficking Data Portal" in get(client, "unknown.example")


def test_canonical_links_and_sitemap_name_the_host_that_serves_them(two_states, client):
    home = get(client, "testland.localhost")
    assert '<link rel="canonical" href="http://testland.localhost/">' in home
    assert '<meta property="og:url" content="http://testland.localhost/">' in home
    xml = get(client, "testland.localhost", "/sitemap.xml")
    assert set(re.findall(r"<loc>([^<]+)</loc>", xml)) == {
        "http://testland.localhost/",
        "http://testland.localhost/laws/",
    }
    xml = get(client, "127.0.0.1:8000", "/sitemap.xml")
    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert locations and all(u.startswith("http://127.0.0.1:8000/") for u in locations)
    assert '<link rel="canonical" href="http://127.0.0.1:8000/laws/">' in get(
        client, "127.0.0.1:8000", "/laws/"
    )


def test_search_finds_only_the_sites_own_pages_and_snippets(two_states, client):
    html = get(client, "testland.localhost", "/search/?q=trafficking")
    main = html.split('<main id="main"', 1)[1]
    assert "Human trafficking in Testland" in main and "Federal prosecutions" not in main
    main = get(client, "127.0.0.1:8000", "/search/?q=Testland").split('<main id="main"', 1)[1]
    assert "Testland Trafficking Offense" not in main


def test_a_second_run_of_either_pack_changes_nothing(two_states):
    before = snapshot()
    assert "nothing to do" in load_state(TESTLAND)
    assert "nothing to do" in load_state(MISSOURI)
    assert snapshot() == before


def test_an_editor_group_limited_to_one_states_pages(two_states):
    missouri, testland = two_states
    group = Group.objects.create(name="Testland editors")
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group, page=testland.root_page, permission_type=codename.split("_")[0]
        )
    user = User.objects.create_user("tl-editor", password="not-used-here-1")
    user.groups.add(group)
    testland_laws = testland.root_page.get_children().get(slug="laws")
    missouri_laws = missouri.root_page.get_children().get(slug="laws")
    assert testland_laws.permissions_for_user(user).can_edit()
    assert testland_laws.permissions_for_user(user).can_publish()
    assert not missouri_laws.permissions_for_user(user).can_edit()
    assert not missouri.root_page.permissions_for_user(user).can_edit()


def test_a_copy_of_the_missouri_pack_serves_its_state_on_another_host(db, client, tmp_path):
    load_state(MISSOURI, hostname="127.0.0.1", port=8000)
    copy = tmp_path / "kansas"
    shutil.copytree(MISSOURI, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.update(jurisdiction="KS", name="Kansas", site_name="Kansas portal")
    (copy / "manifest.json").write_text(json.dumps(manifest))

    load_state(copy, hostname="other.localhost")
    other = Site.objects.get(hostname="other.localhost")
    assert isinstance(other.root_page.specific, HomePage)
    assert Statute.objects.filter(site=other).count() == Statute.objects.exclude(site=other).count()
    html = get(client, "other.localhost:8000", "/laws/")
    assert "Kansas Human Trafficking Data Portal" in html and "§ 566.206" in html
    assert 'href="tel:+18007001650"' in html  # the copy's own tipline snippet
    tipline = SiteSettings.for_site(other).state_tipline
    assert tipline.site == other
    assert "Missouri Human Trafficking Data Portal" in get(client, "127.0.0.1:8000", "/laws/")

    before = snapshot()
    assert "nothing to do" in load_state(copy, hostname="other.localhost")
    assert snapshot() == before


# A bad pack stops with a message naming the file and the entry, and changes nothing.


def broken(tmp_path, name, change):
    copy = tmp_path / "broken"
    shutil.copytree(TESTLAND, copy)
    if change is None:
        (copy / name).unlink()
    else:
        data = json.loads((copy / name).read_text())
        change(data)
        (copy / name).write_text(json.dumps(data))
    return copy


def home_body(data):
    return data["home"]["body"]


BAD = {
    "missing file": ("snippets.json", None, r"snippets\.json: missing file"),
    "unknown metric": (
        "pages.json",
        lambda d: home_body(d)[1]["value"]["figures"][0].update(metric="no-such-metric"),
        r"pages\.json: home\.body\[1\]\.figures\[0\]\.metric: unknown metric 'no-such-metric'",
    ),
    "unknown block": (
        "pages.json",
        lambda d: home_body(d).append({"type": "carousel", "value": {}}),
        r"pages\.json: home\.body\[2\]: unknown block type 'carousel'",
    ),
    "renamed block field": (
        "pages.json",
        lambda d: home_body(d)[0]["value"].update(headline="Get help now"),
        r"pages\.json: home\.body\[0\]: unknown field\(s\) headline",
    ),
    "malformed field": (
        "pages.json",
        lambda d: home_body(d)[1]["value"]["figures"][0].update(year="soon"),
        r"pages\.json: home\.body\[1\]\.figures\[0\]\.year: Enter a whole number",
    ),
    "invalid choice in a child page": (
        "pages.json",
        lambda d: d["home"]["children"][0]["body"][0]["value"].update(category="piracy"),
        r"pages\.json: home\.children\[0\] 'laws'\.body\[0\]\.category: ",
    ),
    "unknown snippet field": (
        "snippets.json",
        lambda d: d["hotlines"][0].update(fax="555"),
        r"snippets\.json: hotlines\[0\] 'Testland Helpline': unknown field\(s\) fax",
    ),
    "invalid snippet value": (
        "snippets.json",
        lambda d: d["statutes"][0].update(category="piracy"),
        r"snippets\.json: statutes\[0\] '§ 1\.101': category: ",
    ),
    # Hostile packs (issue 24): each refused with the file and the entry named.
    "a hostname that is a path": (
        "manifest.json",
        lambda d: d.update(hostname="../../etc"),
        r"manifest\.json: hostname: '\.\./\.\./etc' is not a host name",
    ),
    "a jurisdiction that is a path": (
        "manifest.json",
        lambda d: d.update(jurisdiction="../.."),
        r"manifest\.json: jurisdiction: '\.\./\.\.' is not a state's code",
    ),
    "an unknown language": (
        "manifest.json",
        lambda d: d.update(languages=["en", "xx"]),
        r"manifest\.json: languages: 'xx' is not one of en, es",
    ),
    "a translation into a language not declared": (
        "manifest.json",
        lambda d: d.update(languages=["en"]),
        r"pages\.json: home\.children\.translations\.es: 'es' is not one of the languages",
    ),
    "an unknown time zone": (
        "manifest.json",
        lambda d: d.update(time_zone="Mars/Base"),
        r"manifest\.json: time_zone: 'Mars/Base' is not a time zone",
    ),
    "a duplicate sibling slug": (
        "pages.json",
        lambda d: d["home"]["children"].append(dict(d["home"]["children"][0], title="Laws again")),
        r"pages\.json: home\.children\[1\] 'laws': the same slug as home\.children\[0\] 'laws'\.",
    ),
    "a page title that is a number": (
        "pages.json",
        lambda d: d["home"]["children"][0].update(title=5),
        r"pages\.json: home\.children\[0\] 'laws': title: str expected, not 5",
    ),
    "a metric named by a number": (
        "pages.json",
        lambda d: home_body(d)[1]["value"]["figures"][0].update(metric={"slug": 1}),
        r"home\.body\[1\]\.figures\[0\]\.metric: a name \(a string\) is expected",
    ),
    "a duplicate statute": (
        "snippets.json",
        lambda d: d["statutes"].append(dict(d["statutes"][0], title="Again")),
        r"snippets\.json: statutes\[1\] '§ 1\.101': the same citation as statutes\[0\]",
    ),
    "a duplicate hotline": (
        "snippets.json",
        lambda d: d["hotlines"].append(dict(d["hotlines"][0])),
        r"snippets\.json: hotlines\[2\] 'Testland Helpline': the same name as hotlines\[0\]",
    ),
    "a snippet's locale": (
        "snippets.json",
        lambda d: d["hotlines"][0].update(locale=1),
        r"snippets\.json: hotlines\[0\] 'Testland Helpline': unknown field\(s\) locale",
    ),
    "a phone number that is a number": (
        "snippets.json",
        lambda d: d["hotlines"][0].update(phone=5550100199),
        r"hotlines\[0\] 'Testland Helpline': phone: a string is expected",
    ),
    "a list of snippets that is not a list": (
        "snippets.json",
        lambda d: d.update(statutes={"citation": "§ 1"}),
        r"snippets\.json: statutes: a list is expected",
    ),
    "translations that are not an object": (
        "pages.json",
        lambda d: d["home"]["children"][0].update(translations=["es"]),
        r"pages\.json: home\.children: translations: ",
    ),
    "unknown hotline in settings": (
        "settings.json",
        lambda d: d.update(national_hotline="No such line"),
        r"settings\.json: national_hotline: unknown hotline 'No such line'",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_pack_names_the_file_and_entry_and_changes_nothing(db, tmp_path, case):
    name, change, message = BAD[case]
    pack = broken(tmp_path, name, change)
    before = snapshot()
    with pytest.raises(CommandError) as raised:
        load_state(pack)
    assert re.search(message, str(raised.value)), str(raised.value)
    assert "Nothing was loaded" in str(raised.value)
    assert snapshot() == before


def test_a_bad_figure_row_stops_the_pack(db, tmp_path):
    pack = tmp_path / "badfigures"
    shutil.copytree(TESTLAND, pack)
    (pack / "observations.csv").write_text(
        "jurisdiction,metric,period,breakdown,value,numerator,denominator,rank,footnote,source\n"
        "TL,no-such-metric,2019,,41,,,,,testland-survey-2019\n"
    )
    before = snapshot()
    with pytest.raises(CommandError, match=r"observations\.csv: .*row 2"):
        load_state(pack)
    assert snapshot() == before


# No Python module or template outside the packs names one state.

CODE = re.compile(r"\b(MO|MOED|MOWD)\b")
CHECKED = ("portal", "pages", "stats", "resources", "templates", "static/js", "bench")


def test_no_module_or_template_outside_the_packs_names_a_state():
    root = Path(settings.BASE_DIR)
    found = []
    for top in CHECKED:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".py", ".html", ".js") or "migrations" in path.parts:
                continue
            # Reference data of every jurisdiction (codes and their FIPS numbers) is excepted.
            if "vendor" in path.parts or path.name == "geo.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search("missouri", line, re.IGNORECASE) or CODE.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert found == []


def test_the_header_and_the_call_out_show_only_live_hotlines(two_states, client):
    _missouri, testland = two_states
    line = Hotline.objects.get(site=testland, name="Testland Helpline")
    assert "Testland Helpline" in get(client, "testland.localhost").split("</header>")[0]
    line.unpublish()
    # The page cache goes stale after commit; a test is one transaction, so clear it here.
    from django.core.cache import cache

    cache.clear()
    home = get(client, "testland.localhost")
    assert "Testland Helpline" not in home  # neither in the header nor in the call-out
    assert 'class="callout hotline-callout"' not in home


# Hostile packs (issue 24) beyond one changed field.


def test_deeply_nested_json_is_refused_with_the_file_named(db, tmp_path):
    pack = tmp_path / "deep"
    shutil.copytree(TESTLAND, pack)
    (pack / "snippets.json").write_text('{"statutes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    before = snapshot()
    with pytest.raises(CommandError, match=r"snippets\.json: nested too deeply"):
        load_state(pack)
    assert snapshot() == before


def test_deeply_nested_pages_are_refused(db, tmp_path):
    def nest(data):
        page = data["home"]
        for depth in range(30):
            child = {"slug": f"level-{depth}", "title": f"Level {depth}"}
            page["children"] = [child]
            page = child

    pack = broken(tmp_path, "pages.json", nest)
    before = snapshot()
    with pytest.raises(
        CommandError,
        match=r"pages\.json: home(\.children\[0\] '[^']+')+\.children: "
        r"pages nest deeper than 12 levels",
    ):
        load_state(pack)
    assert snapshot() == before


SCRIPTS = (
    "<script>alert('pack')</script>",
    "<svg onload=\"alert('svg')\"><circle/></svg>",
    "<img src=x onerror=\"alert('img')\">",
    '<a href="javascript:alert(1)" onclick="alert(2)">link</a>',
)


def test_script_in_a_packs_rich_text_never_reaches_the_database_or_the_admin(
    db, tmp_path, client, admin_user
):
    def hostile(data):
        home = data["home"]
        home["intro"] = "<p>Intro</p>" + "".join(SCRIPTS)
        home["body"].append({"type": "text", "value": "<p>Body</p>" + "".join(SCRIPTS)})
        home["children"][0]["translations"]["es"]["intro"] = "<p>Intro</p>" + SCRIPTS[1]

    load_state(broken(tmp_path, "pages.json", hostile))
    home = HomePage.objects.get(slug="home")
    stored = (
        home.intro
        + json.dumps(list(home.body.raw_data))
        + Revision.objects.filter(object_id=str(home.pk)).get().content["intro"]
    )
    assert "<p>Intro</p>" in stored and "<p>Body</p>" in stored  # the words stay
    for marker in ("<script", "<svg", "onload", "onerror", "onclick", "javascript:"):
        assert marker not in stored
    client.force_login(admin_user)
    for url in (f"/admin/pages/{home.pk}/view_draft/", f"/admin/pages/{home.pk}/edit/"):
        html = client.get(url, HTTP_HOST="testland.localhost").content.decode()
        assert "Body" in html
        for marker in ("alert('pack')", "alert('svg')", "alert('img')", "javascript:alert"):
            assert marker not in html, (url, marker)


def test_a_loaded_pack_is_never_moved_to_another_host(db, tmp_path):
    load_state(TESTLAND)
    before = snapshot()
    with pytest.raises(
        CommandError,
        match=r"Testland is already loaded on testland\.localhost:80; "
        r"load_state never moves a site",
    ):
        load_state(TESTLAND, hostname="moved.localhost")
    with pytest.raises(CommandError, match=r"already loaded on testland\.localhost:80"):
        load_state(TESTLAND, port=8001)
    assert snapshot() == before
    assert "nothing to do" in load_state(TESTLAND, hostname="testland.localhost")


def test_a_busy_database_is_a_message_not_a_traceback(db, monkeypatch):
    def locked(self):
        raise OperationalError("database is locked")

    monkeypatch.setattr(Loader, "run", locked)
    with pytest.raises(
        CommandError,
        match=r"testland: the database is busy \(database is locked\).*"
        r"Try again in a moment\. Nothing was loaded\.",
    ):
        load_state(TESTLAND)


def test_a_pack_without_spanish_offers_no_spanish(db, tmp_path, client):
    def english_only(data):
        data.update(languages=["en"])

    pack = broken(tmp_path, "manifest.json", english_only)
    laws = json.loads((pack / "pages.json").read_text())
    del laws["home"]["children"][0]["translations"]
    (pack / "pages.json").write_text(json.dumps(laws))
    out = load_state(pack)
    assert "Languages: en." in out and "Not offered" not in out
    home = get(client, "testland.localhost")
    assert 'hreflang="es"' not in home and 'lang="es"' not in home.split("</nav>")[0]
    for path, english in (("/es/", "/"), ("/es/leyes/", "/leyes/"), ("/es/laws/", "/laws/")):
        response = client.get(path, HTTP_HOST="testland.localhost")
        assert response.status_code == 302 and response["Location"] == english, path


def test_load_state_says_which_declared_languages_it_could_not_offer(db):
    # Testland declares Spanish but translates only one page, not its home page.
    out = load_state(TESTLAND)
    assert "Languages: en. Not offered on this site: es" in out


def test_each_site_shows_times_in_its_own_zone(db, client):
    load_state(TESTLAND)
    assert settings.TIME_ZONE == "UTC"
    site = Site.objects.get(hostname="testland.localhost")
    site_settings = SiteSettings.for_site(site)
    assert site_settings.time_zone == "America/Chicago"  # from the manifest
    late_evening_in_chicago = datetime.datetime(2024, 1, 2, 3, 0, tzinfo=datetime.UTC)
    Observation.objects.filter(jurisdiction__code="TL").update(updated_at=late_evening_in_chicago)
    cache.clear()
    assert "January 1, 2024" in get(client, "testland.localhost").split('class="last-updated"')[1]
    site_settings.time_zone = "UTC"
    site_settings.save()
    cache.clear()
    assert "January 2, 2024" in get(client, "testland.localhost").split('class="last-updated"')[1]


def kansas_copy(tmp_path, translations=True):
    """The Missouri pack with every "Missouri" replaced by "Kansas" and every "MO" by "KS",
    as issue 20 tries it (the Kansas figures are made up by the substitution, for tests).
    The name is replaced in every case it is written in ("nhth-2019-missouri", an address's
    "/state/missouri"), the code where it starts a code ("MO", "MOED")."""
    copy = tmp_path / "kansas"
    copy.mkdir()
    for path in Path(MISSOURI).iterdir():
        text = path.read_text(encoding="utf-8")
        for name, kansas in (("Missouri", "Kansas"), ("missouri", "kansas")):
            text = text.replace(name, kansas)
        (copy / path.name).write_text(re.sub(r"\bMO", "KS", text), encoding="utf-8")
    if not translations:
        for name in ("pages.json", "snippets.json"):
            data = json.loads((copy / name).read_text())
            (copy / name).write_text(json.dumps(strip_translations(data)))
    return copy


def strip_translations(data):
    if isinstance(data, dict):
        return {k: strip_translations(v) for k, v in data.items() if k != "translations"}
    if isinstance(data, list):
        return [strip_translations(v) for v in data]
    return data


def test_a_kansas_copy_cites_its_own_state_summary_and_shares_the_editions(
    db, client, tmp_path, admin_user
):
    load_state(MISSOURI, hostname="127.0.0.1", port=8000)
    # Kansas is one judicial district (KSD); the substitution names two, made up here.
    kansas = Jurisdiction.objects.get(code="KS")
    for code, name in (("KSED", "Kansas Eastern District"), ("KSWD", "Kansas Western District")):
        Jurisdiction.objects.create(code=code, name=name, kind="district", parent=kansas)
    editions = list(Source.objects.filter(slug__startswith="hti-fhtr-").values_list("pk"))
    national = Observation.objects.filter(jurisdiction__code="US").count()
    out = load_state(kansas_copy(tmp_path), hostname="other.localhost")
    assert "Languages: en, es." in out
    # One edition, one source, whichever state's summary printed it; one national figure.
    # (The Spotlight and the state profile are Kansas's own publications: their own sources.)
    assert list(Source.objects.filter(slug__startswith="hti-fhtr-").values_list("pk")) == editions
    assert Source.objects.filter(slug__in=["nhth-2019-kansas", "hhs-r7-kansas-2016"]).count() == 2
    assert Observation.objects.filter(jurisdiction__code="US").count() == national
    assert StateSourceText.objects.filter(jurisdiction__code="KS").exists()
    assert not StateSourceText.objects.filter(jurisdiction__code="MO").exists()

    cache.clear()
    kansas = get(client, "other.localhost")
    assert "Federal Human Trafficking Report, Kansas state summary" in kansas
    assert "Missouri" not in kansas
    missouri = get(client, "127.0.0.1:8000")
    assert "Federal Human Trafficking Report, Missouri state summary" in missouri
    assert "Kansas" not in missouri
    data_page = get(client, "other.localhost", "/data/")
    sources = data_page.split('class="source-list', 1)[1].split("</section>")[0]
    assert "Kansas state summary" in sources and "Missouri" not in sources
    # Editors see and edit each state's words under Statistics.
    client.force_login(admin_user)
    listing = client.get("/admin/snippets/stats/statesourcetext/").content.decode()
    assert "Federal Human Trafficking Report, Kansas state summary" in listing


def otherland(tmp_path):
    """A second made-up state beside Testland, sharing its catalog."""
    copy = tmp_path / "otherland"
    shutil.copytree(TESTLAND, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.update(jurisdiction="OL", name="Otherland", hostname="otherland.localhost")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def test_a_metric_counted_in_another_unit_is_refused(db, tmp_path):
    load_state(TESTLAND)
    copy = otherland(tmp_path)
    catalog = json.loads((copy / "catalog.json").read_text())
    catalog["metrics"][0]["unit"] = "percent"
    (copy / "catalog.json").write_text(json.dumps(catalog))
    before = snapshot()
    with pytest.raises(
        CommandError,
        match=r"catalog\.json: metrics\[0\] 'new-criminal-cases': unit is 'percent' in this "
        r"pack but 'count' in the store",
    ):
        load_state(copy)
    assert snapshot() == before


def test_a_copy_whose_edition_differs_from_the_stores_is_refused(db, tmp_path):
    load_state(TESTLAND)
    copy = otherland(tmp_path)
    catalog = json.loads((copy / "catalog.json").read_text())
    source = catalog["sources"][0]
    year = source["edition_year"]
    source["edition_year"] = year + 1
    (copy / "catalog.json").write_text(json.dumps(catalog))
    before = snapshot()
    message = (
        rf"catalog\.json: sources\[0\] '{source['slug']}': edition_year is {year + 1} in this "
        rf"pack but '{year}' in the store"
    )
    with pytest.raises(CommandError, match=message):
        load_state(copy)
    assert snapshot() == before
