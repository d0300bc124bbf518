"""The shipped Missouri dataset holds exactly the figures of the five seed documents."""

# ruff: noqa: E501 - one figure a line reads best as a table

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from stats.models import Observation, attach_replaced
from stats.store.catalog import load_catalog

DATA = Path(settings.BASE_DIR) / "packs" / "missouri"
SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"

# Every figure of the seeds, listed seed by seed as a reader finds it:
# (jurisdiction, metric, period, breakdown, value, numerator, denominator, rank, source)
HTI18, HTI19, HTI20 = "hti-fhtr-2018", "hti-fhtr-2019", "hti-fhtr-2020"
HOTLINE, HHS = "nhth-2019-missouri", "hhs-r7-missouri-2016"
SPAN = "2012-12/2016-12"
SEED_FIGURES = {
    "000": [
        ("MO", "new-defendants", "2020", "", "8", None, None, None, HTI20),
        ("MO", "active-defendants", "2020", "", "21", None, None, None, HTI20),
        ("MO", "conviction-rate", "2020", "", "100", "4", "4", None, HTI20),
        ("MO", "sentenced-to-prison", "2020", "", "100", "4", "4", None, HTI20),
        ("MO", "average-prison-sentence", "2020", "", "92", None, None, None, HTI20),
        ("MO", "convicted-defendants", "2020", "", "4", None, None, None, HTI20),
        ("MO", "sex-trafficking-cases-outside-tvpa", "2020", "", "2", None, None, None, HTI20),
        ("MO", "restitution-ordered-share", "2020", "", "50", "1", "2", None, HTI20),
    ],
    "001": [
        ("MO", "new-criminal-cases", "2018", "", "4", None, None, 11, HTI18),
        ("MO", "active-criminal-cases", "2018", "", "16", None, None, 11, HTI18),
        ("MO", "convicted-defendants", "2018", "", "6", None, None, 15, HTI18),
        ("MO", "restitution-ordered-defendants", "2018", "", "1", "1", "4", 23, HTI18),
        ("MO", "labor-trafficking-share-active-cases", "2018", "", "0", None, None, None, HTI18),
        ("MO", "new-labor-trafficking-cases", "2018", "", "0", None, None, None, HTI18),
        (
            "US",
            "jurisdictions-without-labor-trafficking-prosecution",
            "2018",
            "",
            "49",
            None,
            None,
            None,
            HTI18,
        ),
        ("US", "new-criminal-cases", "2018", "", "171", None, None, None, HTI18),
        ("US", "new-defendants", "2018", "", "297", None, None, None, HTI18),
        ("US", "convicted-defendants", "2018", "", "346", None, None, None, HTI18),
        ("US", "average-prison-sentence", "2018", "", "135", None, None, None, HTI18),
        ("US", "months-to-resolve", "2018", "", "26", None, None, None, HTI18),
        ("US", "new-civil-cases", "2018", "", "31", None, None, None, HTI18),
        (
            "US",
            "new-civil-cases-share",
            "2018",
            "labor-trafficking",
            "87.1",
            None,
            None,
            None,
            HTI18,
        ),
        ("US", "new-civil-cases-share", "2018", "sex-trafficking", "12.9", None, None, None, HTI18),
        ("US", "labor-trafficking-share-new-cases", "2018", "", "4.7", None, None, None, HTI18),
    ],
    "002": [
        ("MO", "sex-trafficking-cases-outside-tvpa", "2019", "", "9", None, None, None, HTI19),
        ("US", "sex-trafficking-cases-outside-tvpa", "2019", "", "100", None, None, None, HTI19),
        ("MO", "new-criminal-cases", "2019", "", "7", None, None, 5, HTI19),
        ("US", "new-criminal-cases", "2019", "", "145", None, None, None, HTI19),
        ("MO", "active-criminal-cases", "2019", "", "18", None, None, 9, HTI19),
        ("US", "active-criminal-cases", "2019", "", "606", None, None, None, HTI19),
        ("MO", "convicted-defendants", "2019", "", "9", None, None, 10, HTI19),
        ("US", "convicted-defendants", "2019", "", "339", None, None, None, HTI19),
        ("MO", "restitution-ordered-share", "2019", "", "22", "2", "9", 24, HTI19),
        ("US", "restitution-ordered-share", "2019", "", "33", None, None, None, HTI19),
        ("US", "new-defendants", "2019", "", "271", None, None, None, HTI19),
        ("US", "average-prison-sentence", "2019", "", "143", None, None, None, HTI19),
        # The 2018 national figures as restated in the 2019 edition.
        ("US", "new-criminal-cases", "2018", "", "170", None, None, None, HTI19),
        ("US", "new-defendants", "2018", "", "287", None, None, None, HTI19),
        ("US", "active-criminal-cases", "2018", "", "644", None, None, None, HTI19),
        ("US", "convicted-defendants", "2018", "", "300", None, None, None, HTI19),
        ("US", "average-prison-sentence", "2018", "", "145", None, None, None, HTI19),
    ],
    "003": [
        ("MO", "hotline-victims-identified", "2019", "", "423", None, None, None, HOTLINE),
        ("MO", "hotline-traffickers-identified", "2019", "", "117", None, None, None, HOTLINE),
        ("MO", "hotline-trafficking-businesses", "2019", "", "31", None, None, None, HOTLINE),
        ("MO", "hotline-cases", "2019", "", "233", None, None, None, HOTLINE),
        ("MO", "hotline-cases", "2019", "sex-trafficking", "183", None, None, None, HOTLINE),
        ("MO", "hotline-cases", "2019", "labor-trafficking", "22", None, None, None, HOTLINE),
        (
            "MO",
            "hotline-cases",
            "2019",
            "sex-and-labor-trafficking",
            "6",
            None,
            None,
            None,
            HOTLINE,
        ),
        ("MO", "hotline-cases", "2019", "not-specified", "23", None, None, None, HOTLINE),
        ("MO", "hotline-signals", "2019", "phone", "438", None, None, None, HOTLINE),
        ("MO", "hotline-signals", "2019", "webform", "61", None, None, None, HOTLINE),
        ("MO", "hotline-signals", "2019", "email", "14", None, None, None, HOTLINE),
        ("MO", "hotline-signals", "2019", "text", "57", None, None, None, HOTLINE),
        ("MO", "hotline-signals", "2019", "webchat", "17", None, None, None, HOTLINE),
    ],
    "004": [
        (
            "MO",
            "potential-victims-by-citizenship",
            SPAN,
            "us-citizen-lpr",
            "167",
            None,
            None,
            None,
            HHS,
        ),
        (
            "MO",
            "potential-victims-by-citizenship",
            SPAN,
            "foreign-national",
            "66",
            None,
            None,
            None,
            HHS,
        ),
        ("MO", "potential-victims-by-gender", SPAN, "female", "330", None, None, None, HHS),
        ("MO", "potential-victims-by-gender", SPAN, "male", "62", None, None, None, HHS),
        (
            "MO",
            "potential-victims-by-gender",
            SPAN,
            "gender-minorities",
            "0",
            None,
            None,
            None,
            HHS,
        ),
        ("MO", "potential-victims-by-age", SPAN, "adult", "247", None, None, None, HHS),
        ("MO", "potential-victims-by-age", SPAN, "minor", "140", None, None, None, HHS),
        ("MO", "victim-service-agencies", SPAN, "", "10", None, None, None, HHS),
    ]
    + [
        ("MO", "top-sex-trafficking-venues", SPAN, venue, str(rank), None, None, None, HHS)
        for rank, venue in enumerate(
            [
                "online-ad-venue-unknown",
                "residential-brothels",
                "hotel-motel-based",
                "commercial-front-brothels",
                "other-venues",
            ],
            start=1,
        )
    ]
    + [
        ("MO", "top-labor-trafficking-venues", SPAN, venue, str(rank), None, None, None, HHS)
        for rank, venue in enumerate(
            [
                "traveling-sales-crews",
                "landscaping-services",
                "health-and-beauty-services",
                "restaurants-food-services",
                "agriculture",
            ],
            start=1,
        )
    ],
}

SEED_FILES = {
    "000": "000_bd15a68fc347051a.txt",
    "001": "001_8b968282b008c291.txt",
    "002": "002_4f1b754dbfc34066.txt",
    "003": "003_d55e7a6734a84e07.txt",
    "004": "004_20f544d6bb65452c.txt",
}


def _dec(text):
    return None if text is None else Decimal(text)


def _as_tuple(o):
    return (
        o.jurisdiction.code,
        o.metric.slug,
        o.period,
        o.breakdown.slug if o.breakdown else "",
        o.value.normalize(),
        o.numerator.normalize() if o.numerator is not None else None,
        o.denominator.normalize() if o.denominator is not None else None,
        o.rank,
        o.source.slug,
    )


def _expected():
    return {
        (
            j,
            m,
            p,
            b,
            _dec(v).normalize(),
            _dec(n) and _dec(n).normalize(),
            _dec(d) and _dec(d).normalize(),
            r,
            s,
        )
        for figures in SEED_FIGURES.values()
        for (j, m, p, b, v, n, d, r, s) in figures
    }


@pytest.fixture
def missouri_dataset(db):
    from stats.exchange import read_upload, run_import

    load_catalog(DATA / "catalog.json")
    path = DATA / "observations.csv"
    outcome = run_import(read_upload(path.name, path.read_bytes()), dry_run=False, user=None)
    assert outcome.ok, outcome.errors
    return outcome


def test_the_store_holds_every_seed_figure_and_nothing_else(missouri_dataset):
    stored = {_as_tuple(o) for o in Observation.objects.for_display()}
    expected = _expected()
    assert stored - expected == set(), "figures in the store that no seed publishes"
    assert expected - stored == set(), "seed figures missing from the store"
    assert Observation.objects.count() == len(expected)


def test_the_2018_national_figures_show_as_restated(missouri_dataset):
    current = {
        o.metric.slug: o
        for o in attach_replaced(
            list(
                Observation.objects.filter(
                    jurisdiction__code="US", period_start__year=2018, breakdown=None
                ).current()
            )
        )
    }
    for slug, first, restated in [
        ("new-criminal-cases", 171, 170),
        ("new-defendants", 297, 287),
        ("convicted-defendants", 346, 300),
        ("average-prison-sentence", 135, 145),
    ]:
        assert current[slug].value == restated
        assert current[slug].source.slug == HTI19
        assert [(o.value, o.source.slug) for o in current[slug].replaced] == [(first, HTI18)]


def test_the_hotline_breakdown_that_does_not_add_up_is_kept_as_published(missouri_dataset):
    cases = Observation.objects.filter(metric__slug="hotline-cases")
    total = cases.get(breakdown=None).value
    parts = sum(o.value for o in cases.exclude(breakdown=None))
    assert (total, parts) == (233, 234)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not beside the repository")
@pytest.mark.parametrize("seed", sorted(SEED_FIGURES))
def test_every_listed_figure_is_printed_in_its_seed(seed):
    text = (SEEDS / SEED_FILES[seed]).read_text(encoding="utf-8").lower()
    for _j, _m, _p, _b, value, numerator, denominator, rank, _s in SEED_FIGURES[seed]:
        if _m.startswith("top-"):  # venues are published as a numbered list
            assert f"{value}. " in text
            continue
        if _m == "new-labor-trafficking-cases":  # published as words: none was initiated
            assert value == "0" and "failed to initiate a criminal labor trafficking" in text
            continue
        if _m == "labor-trafficking-share-active-cases":
            assert f"{value}% labor trafficking" in text
            continue
        if _m == "victim-service-agencies":
            assert "ten victim service agencies" in text
            continue
        assert value in text, (seed, _m, value)
        if numerator is not None:
            assert numerator in text and denominator in text
        if rank is not None:
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(
                rank % 10 if rank not in (11, 12, 13) else 0, "th"
            )
            assert f"{rank}{suffix}" in text
