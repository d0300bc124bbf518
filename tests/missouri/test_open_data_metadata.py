"""What the Missouri site tells machines about its figures: schema.org Dataset JSON-LD on the
Data page and on every page that draws figures (checked against Google's Dataset rules), and
/data.json in DCAT-US 3.0 form, validated against the DCAT-US 3.0 JSON Schema vendored in
tests/dcat_us/ (its README says which commit). Per site (a made-up Testland beside Missouri)
and per language; read once per data version, whatever the size of the store."""

import copy
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from wagtail.models import Locale, Site

from pages.models import SiteSettings, TopicPage
from stats.models import DataVersion, Observation, Source
from stats.opendata.metadata import scope_facts

SCHEMA_DIR = Path(__file__).parent.parent / "dcat_us" / "jsonschema"
TESTLAND = Path(__file__).parent.parent / "packs" / "testland"
# Definitions the published files refer to but do not define (tests/dcat_us/README.md).
UNDEFINED = (
    "Resource",
    "LinguisticSystem",
    "Frequency",
    "Dimension",
    "Role",
    "Policy",
    "ImageObject",
    "ChecksumAlgorithm",
    "anySimpleType",
)


def without_ids(schema):
    """The schema without its `$id`s: the published files use them for the RDF property each
    field maps to, which Draft 7 would read as new base URIs (tests/dcat_us/README.md)."""
    if isinstance(schema, dict):
        return {k: without_ids(v) for k, v in schema.items() if k not in ("$id", "$schema")}
    if isinstance(schema, list):
        return [without_ids(v) for v in schema]
    return schema


def dcat_validator():
    """Draft 7 validator of a DCAT-US 3.0 Catalog: the vendored files bundled into one."""
    root = json.loads((SCHEMA_DIR / "dcat_us_3.0.0_schema.json").read_text())
    definitions = {}
    for name, ref in root["definitions"].items():
        definitions[name] = without_ids(json.loads((SCHEMA_DIR / ref["$ref"]).read_text()))
    definitions.update({name: False for name in UNDEFINED})
    schema = {**root, "definitions": definitions, "$ref": "#/definitions/Catalog"}
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def dcat_errors(catalog):
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in dcat_validator().iter_errors(catalog)
    ]


def json_ld(html):
    return [
        json.loads(found)
        for found in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    ]


def google_dataset_problems(data, root):
    """What Google's Dataset structured data guidelines refuse or warn about, for our use of
    it: name and a 50-5,000 character description required; downloads with a format and an
    absolute URL; an ISO 8601 interval of dates; named creators; absolute URLs."""
    problems = []
    if data.get("@type") != "Dataset" or not data.get("name"):
        problems.append("a Dataset needs a name")
    if not 50 <= len(data.get("description", "")) <= 5000:
        problems.append(f"description of {len(data.get('description', ''))} characters")
    for download in data.get("distribution", []):
        if download.get("@type") != "DataDownload" or not download.get("encodingFormat"):
            problems.append(f"download without a format: {download}")
        if not download.get("contentUrl", "").startswith(root + "/"):
            problems.append(f"download not on the site: {download}")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}", data.get("temporalCoverage", "")):
        problems.append(f"temporalCoverage {data.get('temporalCoverage')!r}")
    if not all(c.get("name") for c in data.get("creator", [])) or not data.get("creator"):
        problems.append("creators without names")
    if not data.get("url", "").startswith(root):
        problems.append(f"url {data.get('url')!r}")
    if "license" in data and not data["license"].startswith(("http://", "https://")):
        problems.append("license is not a URL")
    return problems


@pytest.fixture
def site(missouri_site):
    return missouri_site


def page(slug):
    return TopicPage.objects.get(slug=slug, locale__language_code="en")


def get(client, path, host=None):
    response = client.get(path, HTTP_HOST=host) if host else client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


# --- schema.org Dataset -----------------------------------------------------------------------


def test_the_data_page_describes_the_sites_figures(client, site):
    html = get(client, page("data").url).content.decode()
    (data,) = json_ld(html)
    assert google_dataset_problems(data, site.root_url) == []
    assert data["isAccessibleForFree"] is True
    assert data["temporalCoverage"] == "2012-12-01/2020-12-31"
    places = {p["name"] for p in data["spatialCoverage"]}
    # The state's downloads hold the state and the places within it, not the nation's figures.
    held = Observation.objects.filter(
        Q(jurisdiction__code="MO") | Q(jurisdiction__parent__code="MO")
    ).values_list("jurisdiction__name", flat=True)
    assert places == set(held) and "Missouri" in places
    assert "United States" not in places
    assert "Human Trafficking Institute" in {c["name"] for c in data["creator"]}
    citations = {c["name"] for c in data["citation"]}
    assert any("2018 edition" in c for c in citations)
    assert {d["encodingFormat"] for d in data["distribution"]} >= {"text/csv", "application/json"}
    # No edition of the Missouri pack states a licence: none is published.
    assert "license" not in data
    # What the JSON holds cannot end the script early.
    assert "</" not in html.split('type="application/ld+json">', 1)[1].split("</script>", 1)[0]


def test_the_data_page_in_spanish_is_described_in_spanish(client, site):
    spanish = page("data").get_translation(Locale.objects.get(language_code="es"))
    (data,) = json_ld(get(client, spanish.url).content.decode())
    assert data["inLanguage"] == "es"
    assert google_dataset_problems(data, site.root_url) == []
    assert "cifras" in data["description"].lower() or "fuente" in data["description"].lower()


def test_every_page_that_draws_figures_describes_them(client, site):
    shown = 0
    for each in TopicPage.objects.live().filter(locale__language_code="en"):
        response = get(client, each.url)
        html = response.content.decode()
        found = json_ld(html)
        draws = 'class="chart' in html or "key-figure" in html or "state-map" in html
        if not draws:
            continue
        shown += 1
        assert len(found) == 1, each.slug
        data = found[0]
        assert google_dataset_problems(data, site.root_url) == [], each.slug
        assert data["name"] == each.title
        # Its downloads work and hold figures (a filtered CSV of the page's metrics and places).
        csv_url = next(
            d["contentUrl"] for d in data["distribution"] if d["encodingFormat"] == "text/csv"
        )
        csv_text = get(client, csv_url.removeprefix(site.root_url)).getvalue().decode("utf-8-sig")
        assert len(csv_text.splitlines()) > 1, each.slug
    assert shown >= 3


def test_a_figure_pages_dataset_is_of_its_own_figures(client, site):
    (data,) = json_ld(get(client, page("hotline-statistics").url).content.decode())
    assert [c["name"] for c in data["creator"]] == ["National Human Trafficking Hotline"]
    assert data["temporalCoverage"] == "2019-01-01/2019-12-31"


def test_a_licence_is_published_only_when_every_edition_states_it(client, site):
    url = "https://creativecommons.org/publicdomain/zero/1.0/"
    hotline = Source.objects.get(slug="nhth-2019-missouri")
    hotline.license_url = url
    hotline.save()
    (data,) = json_ld(get(client, page("hotline-statistics").url).content.decode())
    assert data["license"] == url
    (data,) = json_ld(get(client, page("data").url).content.decode())
    assert "license" not in data  # the other editions state none


def test_the_data_pages_description_is_read_once_per_data_version(client, site):
    get(client, page("data").url)
    facts = scope_facts("MO")
    with CaptureQueriesContext(connection) as queries:
        assert scope_facts("MO") == facts
    assert not [q for q in queries if "stats_observation" in q["sql"]]
    # A changed figure changes the description at once.
    figure = Observation.objects.filter(jurisdiction__code="MO", is_current=True).first()
    figure.value += 1
    figure.save()
    with CaptureQueriesContext(connection) as queries:
        assert scope_facts("MO")["changed"] > facts["changed"]
    assert [q for q in queries if "stats_observation" in q["sql"]]


def test_without_a_cache_the_facts_are_read_and_the_page_still_served(client, site, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    assert scope_facts("MO")["first"] == "2012-12-01"
    assert DataVersion.current() > 0


def test_the_home_pages_source_dates_come_from_the_facts(client, site):
    html = get(client, "/").content.decode()
    dates = html.split('class="last-updated__sources"', 1)[1].split("</details>", 1)[0]
    assert "data as of July 30, 2020" in dates
    assert dates.index("2020 edition") < dates.index("2018 edition")


# --- /data.json (DCAT-US 3.0) ------------------------------------------------------------------


def catalog(client, host=None):
    response = get(client, "/data.json", host)
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_the_validator_refuses_what_dcat_us_refuses(client, site):
    """The vendored schema is really applied: a catalog without a publisher, an edition with a
    date that is not one, or an inline contact without an email is refused."""
    good = catalog(client)
    assert dcat_errors(good) == []
    for broken in (
        lambda c: c.pop("publisher"),
        lambda c: c["dataset"][1].update(modified="last spring"),
        lambda c: c["dataset"][1].pop("description"),
        lambda c: c.update(service=[{"title": "API", "publisher": "x", "endpointURL": ["x"]}]),
    ):
        bad = copy.deepcopy(good)
        broken(bad)
        assert dcat_errors(bad), broken


def test_data_json_is_a_dcat_us_3_catalog_of_series_editions_and_downloads(client, site):
    data = catalog(client)
    assert dcat_errors(data) == []
    root = site.root_url
    assert data["@id"] == f"{root}/data.json"
    assert data["titleMap"]["en"] == "Missouri Human Trafficking Data Portal"
    assert set(data["descriptionMap"]) == {"en", "es"}
    kinds = {}
    for item in data["dataset"]:
        kinds.setdefault(item["@type"], []).append(item)
    series = {s["title"]: s for s in kinds["DatasetSeries"]}
    hti = series["Federal Human Trafficking Report, Missouri state summary"]
    editions = {d["@id"]: d for d in kinds["Dataset"]}
    assert [editions[m]["version"] for m in hti["seriesMember"]] == [
        "2018 edition",
        "2019 edition",
        "2020 edition",
    ]
    assert hti["first"] == f"{root}/data.json#hti-fhtr-2018"
    for member in hti["seriesMember"]:
        assert editions[member]["inSeries"] == [hti["@id"]]
    assert len(kinds["DatasetSeries"]) == 3
    # Each edition's downloads are on the site and hold that edition's figures.
    edition = editions[f"{root}/data.json#nhth-2019-missouri"]
    link = next(
        d["downloadURL"] for d in edition["distribution"] if d["mediaType"]["label"] == "text/csv"
    )
    rows = get(client, link.removeprefix(root)).getvalue().decode("utf-8-sig").splitlines()
    assert len(rows) - 1 == Observation.objects.filter(source__slug="nhth-2019-missouri").count()
    # No contact is named in the Missouri pack: no DataService (DCAT-US requires a contact).
    assert "service" not in data


def test_data_json_answers_304_until_the_figures_change(client, site):
    first = get(client, "/data.json")
    assert "no-cache" in first["Cache-Control"] and "public" in first["Cache-Control"]
    again = client.get("/data.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    figure = Observation.objects.filter(jurisdiction__code="MO", is_current=True).first()
    figure.value += 1
    figure.save()
    assert client.get("/data.json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_api_is_a_data_service_once_the_site_names_a_contact(client, site):
    settings = SiteSettings.for_site(site)
    settings.data_contact_email = "data@example.test"  # made up for this test
    settings.save()
    data = catalog(client)
    assert dcat_errors(data) == []
    (service,) = data["service"]
    assert service["@type"] == "DataService"
    assert service["endpointURL"] == [f"{site.root_url}/api/"]
    assert service["contactPoint"][0]["hasEmail"] == "mailto:data@example.test"
    assert get(client, service["endpointDescription"][0].removeprefix(site.root_url))


def test_each_state_site_catalogs_its_own_figures(client, site):
    call_command("load_state", str(TESTLAND), stdout=io.StringIO())
    testland = Site.objects.get(hostname="testland.localhost")
    theirs = catalog(client, "testland.localhost")
    assert dcat_errors(theirs) == []
    assert theirs["@id"] == f"{testland.root_url}/data.json"
    titles = {d["title"] for d in theirs["dataset"]}
    assert "Made-up survey for tests" in titles
    assert not any("Missouri" in t for t in titles)
    ours = catalog(client)
    assert not any("Made-up" in d["title"] for d in ours["dataset"])
