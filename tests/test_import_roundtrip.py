"""Export safety and the round trip: export everything, import into an empty store."""

import csv
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from stats.exchange import EXPORT_COLUMNS, export_dataset, read_upload, run_import
from stats.models import Observation
from tests.stats_fixtures import csv_bytes, good_rows

pytestmark = pytest.mark.django_db

TRICKY_FOOTNOTES = ['=HYPERLINK("http://x")', "+1 excluded", "-2 states", "@SUM(A1)"]


def load(rows):
    outcome = run_import(read_upload("seed.csv", csv_bytes(rows)), dry_run=False)
    assert outcome.errors == []


def snapshot():
    return sorted(
        (
            o.jurisdiction.code,
            o.metric.slug,
            o.period,
            o.breakdown.slug if o.breakdown else "",
            o.value,
            o.numerator,
            o.denominator,
            o.rank,
            o.footnote,
            o.source.slug,
        )
        for o in Observation.objects.for_display()
    )


def dataset_rows(stats_data):
    rows = good_rows()
    # A restated value (both editions kept), exact decimals, and formula-like footnotes.
    rows.append(
        ["MO", "test-rank", "2018", "", "11", "", "", "", "as restated", "test-report-2019"]
    )
    rows.append(["US", "test-months", "2017", "", "0.0001", "", "", "", "", "test-report-2019"])
    rows.append(
        ["KS", "test-months", "2017", "", "1234567890.1234", "", "", "", "", "test-report-2019"]
    )
    rows.append(["IL", "test-share", "2017", "", "33.3", "1", "3", "7", "", "test-report-2019"])
    for i, note in enumerate(TRICKY_FOOTNOTES):
        rows.append(
            ["AR", "test-months", str(2000 + i), "", "1.5", "", "", "", note, "test-report-2019"]
        )
    return rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_then_import_into_an_empty_store_reproduces_everything(stats_data, fmt):
    load(dataset_rows(stats_data))
    before = snapshot()
    assert len(before) == 14
    content = export_dataset(Observation.objects.all(), fmt)
    Observation.objects.all().delete()
    outcome = run_import(read_upload(f"export.{fmt}", content), dry_run=False)
    assert outcome.errors == [] and outcome.warnings == []
    assert outcome.counts["new"] == 14
    assert snapshot() == before


def test_csv_exportneutralises_formulas_and_keeps_exact_decimals(stats_data):
    load(dataset_rows(stats_data))
    text = export_dataset(Observation.objects.all(), "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    footnotes = {r["footnote"] for r in rows}
    for note in TRICKY_FOOTNOTES:
        assert "'" + note in footnotes
    values = {r["value"] for r in rows}
    assert {"0.0001", "1234567890.1234", "33.3", "233", "14.25"} <= values
    assert not [v for r in rows for v in r.values() if v and v[0] in "=+-@\t\r"]


def test_xlsx_export_has_no_formula_cells(stats_data):
    load(dataset_rows(stats_data))
    book = load_workbook(io.BytesIO(export_dataset(Observation.objects.all(), "xlsx")))
    sheet = book["observations"]
    cells = [c for line in sheet.iter_rows(min_row=2) for c in line]
    assert not [c for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert '\'=HYPERLINK("http://x")' in texts
    assert {14.25, 1234567890.1234, 0.0001} <= {c.value for c in cells}


def test_exportneutralises_tabs_and_keeps_long_decimals_as_text(stats_data):
    # Not saved: SQLite stores decimals as doubles, PostgreSQL keeps all 18 digits.
    from datetime import date

    from stats.models import Jurisdiction

    obs = Observation(
        metric=stats_data["metrics"]["months"],
        jurisdiction=Jurisdiction.objects.get(code="MO"),
        source=stats_data["new"],
        period_start=date(2019, 1, 1),
        period_end=date(2019, 12, 31),
        value=Decimal("12345678901234.5678"),
        footnote="\tTab\r",
    )
    text = export_dataset([obs], "csv").decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["value"] == "12345678901234.5678"
    assert row["footnote"] == "'\tTab\r"
    book = load_workbook(io.BytesIO(export_dataset([obs], "xlsx")))
    values = [c.value for c in book["observations"][2]]
    assert "12345678901234.5678" in values
    assert any(isinstance(v, str) and v.startswith("'\tTab") for v in values), values


def test_json_export_keeps_decimals_as_text(stats_data):
    load(dataset_rows(stats_data))
    data = json.loads(export_dataset(Observation.objects.all(), "json"))
    assert {"value": "0.0001"}.items() <= next(d for d in data if d["value"] == "0.0001").items()
    share = next(d for d in data if d["metric"] == "test-share" and d["jurisdiction"] == "IL")
    assert share["numerator"] == "1" and share["denominator"] == "3" and share["rank"] == "7"
    assert share["source_title"] == "Test Report" and share["source_publisher"] == "Test Institute"


def test_export_of_current_values_only(stats_data):
    load(dataset_rows(stats_data))
    current = Observation.objects.filter(metric__slug="test-cases", breakdown=None).current()
    text = export_dataset(current, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["value"], r["source"]) for r in rows] == [("233", "test-report-2019")]
    assert Decimal(rows[0]["value"]) == current[0].value
