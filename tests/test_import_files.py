"""File-level checks of the spreadsheet import: formats, limits, unsafe workbooks."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stats.exchange import UploadError, read_upload, run_import
from stats.models import Observation
from tests.stats_fixtures import HEADER, csv_bytes, good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


def rejected(name, content):
    with pytest.raises(UploadError) as caught:
        read_upload(name, content)
    assert Observation.objects.count() == 0
    return " ".join(caught.value.messages)


def imported(name, content, dry_run=False):
    outcome = run_import(read_upload(name, content), dry_run=dry_run)
    assert outcome.errors == []
    return outcome


def test_csv_with_and_without_byte_order_mark(stats_data):
    assert imported("a.csv", csv_bytes(good_rows(), bom=True)).counts["new"] == 6
    assert imported("a.csv", csv_bytes(good_rows(), bom=False)).counts["unchanged"] == 6
    assert Observation.objects.count() == 6


def test_xlsx_first_sheet(stats_data):
    outcome = imported("figures.xlsx", xlsx_bytes(good_rows()))
    assert outcome.counts["new"] == 6
    assert Observation.objects.get(metric__slug="test-months").value == pytest.approx(14.25)


def test_xlsx_sheet_named_observations_is_preferred(stats_data):
    content = xlsx_bytes(good_rows(), sheet_title="Observations", extra_sheets=["notes"])
    # Put another sheet first: the "observations" sheet must still be read.
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    book.move_sheet("notes", offset=-book.sheetnames.index("notes"))
    assert book.sheetnames[0] == "notes"
    out = io.BytesIO()
    book.save(out)
    assert imported("figures.xlsx", out.getvalue()).counts["new"] == 6


def test_xlsx_numeric_cells(stats_data):
    rows = [["MO", "test-cases", 2019, None, 233, None, None, None, None, "test-report-2019"]]
    rows.append(["US", "test-share", 2019, None, 22.5, 9, 40, None, None, "test-report-2019"])
    imported("n.xlsx", xlsx_bytes(rows))
    assert Observation.objects.get(metric__slug="test-share").value == 22.5


def test_headers_match_whatever_case_and_spacing(stats_data):
    header = [
        " Jurisdiction ",
        "METRIC",
        "Period",
        "break down",
        "Value\u00a0",
        "numerator",
        "Denominator",
        "RANK",
        "footnote",
        " source",
    ]
    assert imported("a.csv", csv_bytes(good_rows(), header=header)).counts["new"] == 6


def test_unreadable_xlsx():
    message = rejected("figures.xlsx", b"this is not a workbook at all")
    assert "cannot be read as an Excel workbook" in message


def test_broken_zip_named_xlsx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert "cannot be read as an Excel workbook" in rejected("figures.xlsx", out.getvalue())


def test_wrong_file_type():
    assert "not a CSV or Excel" in rejected("figures.pdf", b"%PDF-1.4 ...")
    assert "not a CSV or Excel" in rejected("figures.xls", b"\xd0\xcf\x11\xe0 old excel")


def test_binary_data_in_csv():
    assert "binary" in rejected("figures.csv", b"PK\x03\x04\x00\x00 zip bytes")


def test_csv_not_utf8():
    content = "jurisdiction,metric\nMO,caf\u00e9\n".encode("latin-1")
    assert "UTF-8" in rejected("figures.csv", content)


def test_empty_file():
    assert "empty" in rejected("figures.csv", b"")
    assert "empty" in rejected("figures.csv", b"\xef\xbb\xbf\r\n")


def test_empty_workbook():
    assert "empty" in rejected("figures.xlsx", xlsx_bytes([], header=None))


def test_header_without_rows():
    assert "no data rows" in rejected("figures.csv", csv_bytes([]))
    assert "no data rows" in rejected("figures.xlsx", xlsx_bytes([]))


@override_settings(STATS_IMPORT_MAX_BYTES=200)
def test_file_over_the_size_limit():
    message = rejected("figures.csv", csv_bytes(good_rows()))
    assert "the limit is" in message


@override_settings(STATS_IMPORT_MAX_ROWS=5)
def test_more_rows_than_the_limit(stats_data):
    assert "more than 5 rows" in rejected("figures.csv", csv_bytes(good_rows()))
    assert "more than 5 rows" in rejected("figures.xlsx", xlsx_bytes(good_rows()))


def test_formula_cells_are_refused_and_do_not_hide_other_errors(stats_data):
    rows = good_rows()
    rows[1][4] = "=SUM(1,2)"
    rows[3][0] = "ZZ"  # another error, in another row
    rows[5][9] = "=A1"
    before = Observation.objects.count()
    outcome = run_import(read_upload("figures.xlsx", xlsx_bytes(rows)), dry_run=False)
    assert not outcome.ok and Observation.objects.count() == before
    assert "row 3, column value: a formula is not accepted" in outcome.errors[0]
    assert any(e.startswith("row 5, column jurisdiction: Unknown") for e in outcome.errors)
    assert any(e.startswith("row 7, column source: a formula") for e in outcome.errors)
    assert outcome.counts["error"] == len(outcome.errors) == 3


def test_xlsx_zip_bomb_is_refused():
    content = xlsx_bytes(good_rows())
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            bomb.writestr(item, source.read(item.filename))
        bomb.writestr("xl/media/padding.bin", b"\0" * (3 * 1024 * 1024))
    assert len(out.getvalue()) < 100_000  # small on disk, large unpacked
    with override_settings(STATS_IMPORT_MAX_UNCOMPRESSED_BYTES=2 * 1024 * 1024):
        assert "zip bomb" in rejected("bomb.xlsx", out.getvalue())


def test_xml_entities_are_refused():
    content = xlsx_bytes(good_rows())
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as evil:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                doctype = '<!DOCTYPE worksheet [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                text = data.decode()
                if text.startswith("<?xml"):
                    head, _, rest = text.partition("?>")
                    text = head + "?>" + doctype + rest
                else:
                    text = doctype + text
                data = text.replace("test-cases", "&b;", 1).encode()
            evil.writestr(item, data)
    message = rejected("evil.xlsx", out.getvalue())
    assert "XML entities" in message


def test_json_file(stats_data):
    import json

    rows = [dict(zip(HEADER, row, strict=True)) for row in good_rows()]
    outcome = imported("figures.json", json.dumps(rows).encode())
    assert outcome.counts["new"] == 6


@override_settings(STATS_IMPORT_MAX_ROWS=6)
def test_blank_rows_are_skipped_and_line_numbers_kept(stats_data):
    rows = good_rows()
    rows.insert(2, [None] * 10)
    rows.insert(2, [""] * 10)
    rows[-1][4] = "-3"  # months cannot be negative: reported at its line in the sheet
    for name, content in (("f.csv", csv_bytes(rows)), ("f.xlsx", xlsx_bytes(rows))):
        outcome = run_import(read_upload(name, content), dry_run=True)
        assert outcome.counts["total"] == 6
        assert outcome.errors == [
            "row 9, column value: A number of months cannot be negative (got -3)."
        ], name


def test_ragged_rows_and_unnamed_columns(stats_data):
    rows = [r[:5] for r in good_rows()]  # short rows: the optional cells are missing
    rows[0] = rows[0] + [""] * 5 + ["test-report-2019", "stray"]
    header = HEADER[:5]
    content = csv_bytes(rows, header=header)
    outcome = run_import(read_upload("f.csv", content), dry_run=True)
    assert 'Required column "source" missing' in outcome.errors[0]
    assert "Column 11 has no header; it was ignored." in outcome.warnings
    assert "Column 12 has no header; it was ignored." in outcome.warnings


@given(
    cells=st.lists(
        st.lists(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(["MO", "test-cases", "2019", "sex", "1,234", "22%", "=1+1"]),
            ),
            min_size=0,
            max_size=12,
        ),
        max_size=6,
    ),
    noise=st.binary(max_size=64),
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_messy_input_never_crashes(stats_data, cells, noise):
    """Whatever the file holds: a clear rejection or an outcome, never an exception."""
    for name, content in (
        ("f.csv", csv_bytes(cells, header=HEADER if cells[:1] else None)),
        ("f.csv", noise),
        ("f.xlsx", noise),
        ("f.json", noise),
    ):
        try:
            dataset = read_upload(name, content)
        except UploadError as e:
            assert e.messages
            continue
        before = Observation.objects.count()
        outcome = run_import(dataset, dry_run=False)
        if outcome.ok:
            assert Observation.objects.count() == before + outcome.counts["new"]
        else:  # rejected: every message says where, and nothing was written
            assert all(message.strip() for message in outcome.errors)
            assert Observation.objects.count() == before
    assert Observation.objects.filter(value__lt=0).count() == 0


def test_an_excel_percent_cell_is_read_as_the_percent_it_shows(stats_data):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["US", "test-share", "2019", "", 0.225, 9, 40, None, None, "test-report-2019"])
    sheet["E2"].number_format = "0.0%"  # shown as 22.5%, stored as 0.225
    buffer = io.BytesIO()
    book.save(buffer)
    outcome = run_import(read_upload("f.xlsx", buffer.getvalue()), dry_run=False)
    assert outcome.ok, outcome.errors
    assert Observation.objects.get(metric__slug="test-share").value == Decimal("22.5")
