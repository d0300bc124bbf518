"""Staff screens: the jurisdiction and metric choosers, the observation search and form, the
chart block's editor fields. Made-up figures only."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Site

from pages.models import SiteSettings
from stats.display.blocks import ChartBlock
from stats.models import Jurisdiction, Metric, Observation
from stats.store.periods import last_year

pytestmark = pytest.mark.django_db

CHOOSER = "wagtailsnippetchoosers_stats_{}:choose_results"


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.org", "pw-123456")
    client.force_login(user)
    return client


def rows(response):
    """The text of each row of a listing or chooser table (the header first)."""
    html = response.json()["html"] if "json" in response["Content-Type"] else response.text
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    ]


def choose(staff, model, **params):
    response = staff.get(reverse(CHOOSER.format(model)), params)
    assert response.status_code == 200
    return rows(response)[1:]


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("Missouri", "Missouri MO State", "Alabama"),
        ("MO", "Missouri MO State", "Vermont"),
        ("mo", "Missouri MO State", "Missouri Eastern"),
        ("Alabama", "Alabama AL State", "Missouri"),
        ("missouri eastern", "Missouri Eastern District MOED", "Missouri MO State"),
    ],
)
def test_jurisdiction_chooser_search_finds_by_name_and_code(staff, query, found, not_found):
    found_rows = choose(staff, "jurisdiction", q=query)
    assert any(row.startswith(found) for row in found_rows), found_rows
    assert not any(row.startswith(not_found) for row in found_rows), found_rows


def test_jurisdiction_chooser_filters_by_kind(staff):
    found = choose(staff, "jurisdiction", kind="nation")
    assert found and all(row.endswith("Nation") for row in found)


@pytest.mark.parametrize(("code", "name"), [("MO", "Missouri"), ("AL", "Alabama")])
def test_jurisdiction_chooser_lists_the_sites_state_first(staff, code, name):
    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.jurisdiction = Jurisdiction.objects.get(code=code)
    settings.save()
    found = choose(staff, "jurisdiction")
    assert found[0].startswith(f"{name} {code} State"), found[:3]
    # Then its own districts, then the nation, before the other states.
    districts = [r for r in found if r.startswith(f"{name} ") and "District" in r]
    nation = next(i for i, r in enumerate(found) if r.endswith("Nation"))
    assert all(found.index(r) < nation for r in districts)


def test_jurisdiction_listing_search_finds_by_code(staff):
    response = staff.get(reverse("wagtailsnippets_stats_jurisdiction:list_results"), {"q": "MO"})
    found = rows(response)[1:]
    assert len(found) == 1 and found[0].startswith("Missouri")


def _observe(metric, code, year, source, value=1, breakdown=None):
    return Observation.objects.create(
        metric=metric,
        jurisdiction=Jurisdiction.objects.get(code=code),
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        value=value,
        source=source,
        breakdown=breakdown,
    )


def test_metric_chooser_shows_unit_sources_years_and_places(staff, stats_data):
    cases, share = stats_data["metrics"]["cases"], stats_data["metrics"]["share"]
    _observe(cases, "MO", 2018, stats_data["old"])
    _observe(cases, "US", 2019, stats_data["new"])
    _observe(share, "MO", 2019, stats_data["new"], value=20)
    found = choose(staff, "metric")
    assert "Test cases Count test-report-2018, test-report-2019 2018\u20132019 MO, US" in found
    assert "Test share Percent test-report-2019 2019 MO" in found
    assert "Test rank Rank No data yet No data yet No data yet" in found


def test_metric_chooser_runs_the_same_queries_for_many_metrics(staff, stats_data):
    source = stats_data["new"]

    def add_metrics(n):
        for i in range(n):
            metric = Metric.objects.create(slug=f"extra-{Metric.objects.count()}", label=f"X {i}")
            for code in ("MO", "US", "AL"):
                _observe(metric, code, 2019, source)

    url = reverse(CHOOSER.format("metric"))
    add_metrics(2)
    staff.get(url)  # the session and user are cached from here on
    with CaptureQueriesContext(connection) as few:
        staff.get(url)
    add_metrics(10)
    with CaptureQueriesContext(connection) as many:
        response = staff.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "MO, US, AL" not in response.text  # places are sorted
    assert "AL, MO, US" in response.text


def test_metric_chooser_search(staff, stats_data):
    found = choose(staff, "metric", q="share test")
    assert len(found) == 1 and found[0].startswith("Test share")


@pytest.fixture
def observations(stats_data):
    active = Metric.objects.create(
        slug="active-criminal-cases", label="Active criminal human trafficking cases"
    )
    made = {}
    for code in ("MO", "US"):
        for year, source in ((2018, stats_data["old"]), (2019, stats_data["new"])):
            made[code, year] = _observe(active, code, year, source, value=year - 2000)
    made["other"] = _observe(stats_data["metrics"]["cases"], "MO", 2019, stats_data["new"])
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("active criminal missouri 2019", [("MO", 2019)]),
        ("Active MO 2018", [("MO", 2018)]),
        ("active 2019", [("MO", 2019), ("US", 2019)]),
        ("active test-report-2018", [("MO", 2018), ("US", 2018)]),
        ("criminal missouri 2017", []),
    ],
)
def test_observation_search_matches_metric_place_year_and_source(
    staff, observations, query, expected
):
    response = staff.get(reverse("wagtailsnippets_stats_observation:list_results"), {"q": query})
    found = rows(response)[1:]
    wanted = [str(observations[key]) for key in expected]
    assert sorted(r.split(" Edit ")[0] for r in found) == sorted(wanted), found


def test_observation_form_shows_numbers_as_written(staff, stats_data):
    share = _observe(stats_data["metrics"]["share"], "MO", 2019, stats_data["new"], value=0)
    share.value, share.numerator, share.denominator = Decimal("22.5"), 9, 40
    share.save()
    count = _observe(stats_data["metrics"]["cases"], "MO", 2019, stats_data["new"], value=500)
    html = staff.get(reverse("wagtailsnippets_stats_observation:edit", args=[count.pk])).text
    assert re.search(r'name="value"[^>]*value="500"', html)
    assert "500.0000" not in html and "5E+2" not in html
    html = staff.get(reverse("wagtailsnippets_stats_observation:edit", args=[share.pk])).text
    assert re.search(r'name="value"[^>]*value="22.5"', html)
    assert re.search(r'name="numerator"[^>]*value="9"', html)
    assert re.search(r'name="denominator"[^>]*value="40"', html)


def test_chart_block_names_its_list_items():
    chart = ChartBlock()
    assert chart.child_blocks["metrics"].child_block.label == "Metric"
    assert chart.child_blocks["jurisdictions"].child_block.label == "Jurisdiction"


def test_chart_block_years_are_chosen_from_a_list():
    year = ChartBlock().child_blocks["from_year"]
    html = year.field.widget.render("from_year", 2019)
    assert html.startswith("<select")
    assert '<option value="2019" selected>2019</option>' in html
    assert '<option value="">Earliest</option>' in html
    assert f'<option value="{last_year()}">' in html and '<option value="1989">' not in html
    assert year.clean("2019") == 2019
    assert year.clean("") is None
    with pytest.raises(ValidationError):
        year.clean(str(last_year() + 1))


def test_the_snippets_index_lists_every_kind_to_a_superuser(staff):
    # Every kind has a menu of its own (Resources, Statistics): the index still lists them.
    response = staff.get(reverse("wagtailsnippets:index"))
    assert response.status_code == 200
    listed = " ".join(rows(response))
    assert "Hotlines" in listed and "Statutes" in listed and "Metrics" in listed
    assert "permission" not in response.text.lower()


def test_every_resource_list_shows_a_status_not_true(staff):
    from resources.models import Statute

    Statute.objects.create(
        citation="§ 1.1", title="Made-up statute", site=Site.objects.get(is_default_site=True)
    )
    listing = staff.get("/admin/snippets/resources/statute/").content.decode()
    assert "§ 1.1" in listing and ">True<" not in listing
    assert re.search(r">\s*Live\s*<", listing, re.I)
