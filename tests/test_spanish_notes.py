# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
"""The portal's Spanish renderings of notes quoted from English sources (issue 20): a
footnote's `footnote_es` through the import, the history and the export; a source's
`caveat_es`, `limitations_es`, `methodology_es` with the state whose words they render; and
on a page, the rendering first with the English quotation kept beside it, `lang="en"`."""

import json
import re
from pathlib import Path

import pytest
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from stats.display.shaping import footnotes, source_lines
from stats.exchange import export_dataset, read_upload, run_import
from stats.exchange.common import COLUMNS
from stats.models import Jurisdiction, Observation, ObservationChange, Source, StateSourceText
from stats.store.catalog import load_catalog
from stats.store.history import figures_as_of
from tests.factories import MetricFactory, ObservationFactory, made_up_edition
from tests.stats_fixtures import csv_bytes, good_rows, stats_data, xlsx_bytes  # noqa: F401

pytestmark = pytest.mark.django_db

FOOTNOTE_AT = COLUMNS.index("footnote")
SPANISH = "Excluye 1 de 50 casos."


def with_spanish(rows, spanish=SPANISH):
    """The rows in the full import format: a footnote_es cell after each footnote."""
    return [
        [*r[: FOOTNOTE_AT + 1], spanish if r[FOOTNOTE_AT] else "", *r[FOOTNOTE_AT + 1 :]]
        for r in rows
    ]


def imported(rows, fmt="csv", dry_run=False):
    maker = csv_bytes if fmt == "csv" else xlsx_bytes
    content = maker(rows, header=list(COLUMNS))
    return run_import(read_upload(f"figures.{fmt}", content), dry_run=dry_run)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_import_reads_the_spanish_footnote(stats_data, fmt):
    rows = with_spanish(good_rows())
    assert sum(1 for r in rows if r[FOOTNOTE_AT + 1]) == 1
    outcome = imported(rows, fmt)
    assert outcome.ok, outcome.errors
    noted = Observation.objects.get(footnote__gt="")
    assert (noted.footnote, noted.footnote_es) == ("1 of 50 excluded", SPANISH)
    assert Observation.objects.filter(footnote_es="").count() == len(rows) - 1


def test_a_file_without_the_column_keeps_the_stored_spanish_footnote(stats_data):
    imported(with_spanish(good_rows()))
    outcome = imported(with_spanish(good_rows()), dry_run=True)
    assert outcome.counts["unchanged"] == len(good_rows())
    csv_only = run_import(read_upload("figures.csv", csv_bytes(good_rows())), dry_run=False)
    assert csv_only.counts["updated"] == 0, csv_only.changes
    assert Observation.objects.get(footnote__gt="").footnote_es == SPANISH


def test_a_changed_spanish_footnote_is_an_update_in_the_figures_history(stats_data):
    imported(with_spanish(good_rows()))
    outcome = imported(with_spanish(good_rows(), "Excluye uno de cada 50 casos."))
    assert outcome.counts["updated"] == 1
    assert outcome.changes[0]["fields"] == {
        "footnote_es": [SPANISH, "Excluye uno de cada 50 casos."]
    }
    change = ObservationChange.objects.get(action="updated")
    assert change.differences == [("footnote_es", SPANISH, "Excluye uno de cada 50 casos.")]


def test_a_spanish_footnote_over_the_limit_is_refused_by_name(stats_data):
    rows = with_spanish(good_rows(), "x" * 2001)
    outcome = imported(rows)
    assert not outcome.ok
    assert "column footnote_es: The Spanish footnote has 2,001 characters" in outcome.errors[0]
    assert Observation.objects.count() == 0


def test_the_export_writes_the_spanish_footnote_and_imports_back_unchanged(stats_data):
    imported(with_spanish(good_rows()))
    content = export_dataset(Observation.objects.by_key(), "csv")
    header = content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[header.index("footnote") + 1] == "footnote_es"
    assert SPANISH in content.decode()
    again = run_import(read_upload("export.csv", content), dry_run=True)
    assert again.ok and again.counts["unchanged"] == len(good_rows())


# On a page: the rendering, then the English as published, marked as English.


@pytest.fixture
def noted(db):
    us = Jurisdiction.objects.get(code="US")
    source = made_up_edition(
        "test-report-2019",
        2019,
        caveat="The data are not a count of victims.",
        caveat_es="Los datos no son un recuento de víctimas.",
    )
    o = ObservationFactory(
        metric=MetricFactory(),
        jurisdiction=us,
        source=source,
        value=3,
        footnote="Excludes sealed cases.",
        footnote_es="Excluye los casos sellados.",
    )
    o.replaced = []
    return o


def test_a_spanish_page_gives_the_footnote_in_spanish_beside_the_english(noted):
    with translation.override("es"):
        (note,) = footnotes([("2019", noted)])
    assert note == (
        '2019: Excluye los casos sellados. (en inglés: <span lang="en">Excludes sealed '
        "cases.</span>)"
    )


def test_an_english_page_quotes_the_footnote_alone(noted):
    with translation.override("en"):
        assert footnotes([("2019", noted)]) == [
            '2019: <span lang="en">Excludes sealed cases.</span>'
        ]


def test_without_a_rendering_the_spanish_page_quotes_the_english_alone(noted):
    noted.footnote_es = ""
    with translation.override("es"):
        assert footnotes([("2019", noted)]) == [
            '2019: <span lang="en">Excludes sealed cases.</span>'
        ]


def provenance(language, observation):
    with translation.override(language):
        return render_to_string(
            "stats/blocks/_provenance.html",
            {"sources": source_lines([observation]), "footnotes": None},
        )


def test_the_source_caveat_in_spanish_keeps_the_quotation(noted):
    html = provenance("es", noted)
    caveat = re.search(r'<span class="figure-sources__caveat">(.*?)</span>\)?</span>', html).group(
        0
    )
    assert caveat.startswith('<span class="figure-sources__caveat">Los datos no son un recuento')
    assert '(en inglés: <span lang="en">The data are not a count of victims.</span>)' in caveat
    english = provenance("en", noted)
    assert (
        '<span class="figure-sources__caveat" lang="en">The data are not a count of victims.</span>'
        in english
    )
    assert "recuento" not in english


def test_a_state_text_brings_its_own_rendering_never_the_shared_one(noted):
    source = noted.source
    state = Jurisdiction.objects.get(code="KS")
    words = StateSourceText(source=source, jurisdiction=state, title="Kansas state summary")
    words.caveat = "The data do not represent the full scope of trafficking in Kansas."
    cited = source.for_state(words)
    assert cited.caveat == words.caveat
    assert cited.caveat_es == ""  # the shared rendering renders other words
    words.caveat_es = "Los datos no representan todo el alcance de la trata en Kansas."
    assert source.for_state(words).caveat_es == words.caveat_es
    words.caveat = ""  # no words of the state's own: the shared text and its rendering
    assert source.for_state(words).caveat_es == "Los datos no son un recuento de víctimas."


def test_the_catalog_fills_a_rendering_only_of_the_english_it_renders(db, tmp_path):
    spec = {
        "slug": "test-report-2020",
        "publisher": "Test Institute",
        "title": "Test Report",
        "edition": "2020 edition",
        "edition_year": 2020,
        "caveat": "Not a prevalence estimate.",
        "caveat_es": "No es una estimación de la prevalencia.",
        "limitations": "Federal cases only.",
        "limitations_es": "Solo casos federales.",
    }

    def load(**changes):
        path = Path(tmp_path) / "catalog.json"
        path.write_text(json.dumps({"sources": [{**spec, **changes}]}), encoding="utf-8")
        load_catalog(path)
        return Source.objects.get(slug=spec["slug"])

    source = load(caveat_es="", limitations_es="")
    assert (source.caveat_es, source.limitations_es) == ("", "")
    # A later pack's words for the same edition: its caveat is another text, not rendered here.
    source = load(caveat="Not a prevalence estimate for Kansas.")
    assert source.caveat_es == ""
    assert source.limitations_es == "Solo casos federales."
    assert load().caveat_es == "No es una estimación de la prevalencia."


def test_figures_as_of_a_past_moment_have_the_spanish_footnote_of_that_moment(stats_data):
    imported(with_spanish(good_rows()))
    moment = timezone.now()
    imported(with_spanish(good_rows(), "Excluye uno de cada 50 casos."))
    then = [o for o in figures_as_of(Q(), moment) if o.footnote]
    assert [o.footnote_es for o in then] == [SPANISH]
    now = Observation.objects.get(footnote__gt="")
    assert now.footnote_es == "Excluye uno de cada 50 casos."
