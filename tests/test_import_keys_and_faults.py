"""An import reads what its file names, refuses hostile files clearly, and recovers from a
worker that died (issues 24 and 26)."""

import datetime
import io
import re
import time
import zipfile
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from stats.exchange import UploadError, read_upload, run_import
from stats.exchange import tasks as import_tasks
from stats.exchange.common import Budget, OutOfTime
from stats.exchange.validating import read_stored
from stats.models import ImportRecord, Jurisdiction, Observation
from tests.stats_fixtures import HEADER, csv_bytes, good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("manager", password="x" * 16)


def many_stored(stats_data, count):
    """count stored figures of the metric the test files use, none of them the file's."""
    place = Jurisdiction.objects.get(code="MO")
    Observation.objects.bulk_create(
        Observation(
            metric=stats_data["metrics"]["cases"],
            jurisdiction=place,
            period_start=datetime.date(1000 + i, 1, 1),
            period_end=datetime.date(1000 + i, 12, 31),
            value=Decimal(i),
            source=stats_data["new"],
        )
        for i in range(count)
    )


def test_checking_reads_only_the_rows_the_file_names(stats_data, django_assert_max_num_queries):
    many_stored(stats_data, 300)
    run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=False)
    with CaptureQueriesContext(connection) as queries:
        outcome = run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=True)
    assert outcome.counts["unchanged"] == 6
    figures = [q["sql"] for q in queries if 'FROM "stats_observation"' in q["sql"]]
    assert len(figures) == 1, figures
    assert "ORDER BY" not in figures[0]  # no ordering it does not need
    # Only the file's groups are read: its 6 rows (the 300 others of the same metric and
    # source are not), as values.
    groups = {
        (k[0], k[1], k[2], k[3], k[5])
        for k in Observation.objects.values_list(
            "metric", "jurisdiction", "period_start", "period_end", "breakdown", "source"
        )
    }
    file_groups = {g for g in groups if g[2].year in (2012, 2018, 2019)}
    assert len(read_stored(file_groups)) == 6
    with django_assert_max_num_queries(16):  # as test_queries_do_not_grow_with_rows
        run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=True)


def test_confirming_locks_only_the_rows_the_plan_read(stats_data):
    many_stored(stats_data, 50)
    run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=False)
    rows = good_rows()
    rows[0][4] = "240"
    with CaptureQueriesContext(connection) as queries:
        outcome = run_import(read_upload("f.csv", csv_bytes(rows)), dry_run=False)
    assert outcome.imported and outcome.counts["updated"] == 1
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"] or "IN (" in q["sql"]]
    locked = [sql for sql in locks if re.search(r'"stats_observation"\."id" IN \(', sql)]
    assert locked and all(sql.count(",") < 60 for sql in locked)  # six ids, not the table


def unrelated(stats_data, first_year, count):
    """count stored figures of the file's metric, place and source in years no file names."""
    place = Jurisdiction.objects.get(code="MO")
    Observation.objects.bulk_create(
        Observation(
            metric=stats_data["metrics"]["cases"],
            jurisdiction=place,
            period_start=datetime.date(first_year + i, 1, 1),
            period_end=datetime.date(first_year + i, 12, 31),
            value=Decimal(i),
            source=stats_data["new"],
            is_current=True,
        )
        for i in range(count)
    )


def correction():
    """A 10-row file over good_rows: one value changed, five unchanged, four new rows, one of
    them a 2019-edition value replacing the 2018 edition's rank that visitors see."""
    rows = good_rows()
    rows[0][4] = "240"
    return rows + [
        ["MO", "test-rank", "2018", "", "11", "", "", "", "", "test-report-2019"],
        ["MO", "test-cases", "2017", "", "100", "", "", "", "", "test-report-2019"],
        ["US", "test-cases", "2019", "", "900", "", "", "", "", "test-report-2019"],
        ["MOED", "test-months", "2017", "", "3.5", "", "", "", "", "test-report-2018"],
    ]


def observation_reads(captured):
    """(queries, observation rows they returned, observation SELECTs with an ORDER BY): each
    captured SELECT of the observation table is run again, counted."""
    table = connection.ops.quote_name("stats_observation")
    selects = [
        re.sub(r" FOR UPDATE.*$", "", q["sql"])
        for q in captured
        if q["sql"].startswith("SELECT") and f"FROM {table}" in q["sql"]
    ]
    rows = 0
    with connection.cursor() as cursor:
        for sql in selects:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS counted")
            rows += cursor.fetchone()[0]
    return len(captured), rows, [sql for sql in selects if "ORDER BY" in sql]


def preview_and_confirm():
    """Check, then confirm, the correction (rolled back after): what each read."""
    content = csv_bytes(correction())
    with transaction.atomic():
        with CaptureQueriesContext(connection) as checking:
            preview = run_import(read_upload("fix.csv", content), dry_run=True)
        with CaptureQueriesContext(connection) as confirming:
            done = run_import(
                read_upload("fix.csv", content), dry_run=False, expected_digest=preview.digest
            )
        assert done.imported, (done.errors, done.stale)
        counts = preview.counts
        assert (counts["new"], counts["updated"], counts["unchanged"]) == (4, 1, 5)
        assert [r["row"] for r in preview.replacing_rows] == [8]
        assert preview.replacing_rows[0]["before"] == {
            "value": "12",
            "footnote": "1 of 50 excluded",
        }
        assert Observation.objects.get(
            metric__slug="test-rank", source__slug="test-report-2019"
        ).is_current
        transaction.set_rollback(True)
    return observation_reads(checking.captured_queries), observation_reads(
        confirming.captured_queries
    )


def test_a_correction_reads_the_same_whatever_else_the_store_holds(stats_data):
    """Checking and confirming a 10-row file read only its keys, as values in no order: the
    same queries and the same observation rows with 10 or 2,000 other figures of the same
    metric, place and source in the store."""
    run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=False)
    unrelated(stats_data, 3000, 10)
    preview_and_confirm()  # caches warmed
    few = preview_and_confirm()
    unrelated(stats_data, 3010, 1990)
    many = preview_and_confirm()
    for (queries, rows, ordered), (queries_many, rows_many, _ordered) in zip(
        few, many, strict=True
    ):
        assert not ordered, ordered  # no ordering it does not need
        assert (queries_many, rows_many) == (queries, rows)
        assert rows < 50  # its keys, their groups and editions: not the 2,000 others


def test_a_preview_of_changed_rows_runs_no_query_per_row(stats_data):
    """The changed rows are named from the check's maps: as many queries for six as for one."""
    run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=False)

    def queries_changing(count):
        rows = good_rows()
        for row in rows[:count]:
            row[8] = "Corrected by the source."
        with CaptureQueriesContext(connection) as queries:
            outcome = run_import(read_upload("fix.csv", csv_bytes(rows)), dry_run=True)
        assert outcome.counts["updated"] == count
        assert outcome.changes[0]["key"]["jurisdiction"] == "MO"
        return len(queries)

    queries_changing(1)  # caches warmed
    assert queries_changing(6) == queries_changing(1)


def test_a_stored_row_changed_since_the_plan_is_stale(stats_data):
    run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=False)
    rows = good_rows()
    rows[0][4] = "240"
    preview = run_import(read_upload("f.csv", csv_bytes(rows)), dry_run=True)
    Observation.objects.filter(breakdown=None, metric__slug="test-cases").update(
        value=Decimal(1), updated_at=timezone.now()
    )
    outcome = run_import(
        read_upload("f.csv", csv_bytes(rows)), dry_run=False, expected_digest=preview.digest
    )
    assert outcome.stale and not outcome.imported


def xlsx_declaring(dimension):
    """A tiny workbook whose sheet declares `dimension` as its size."""
    content = xlsx_bytes(good_rows())
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data, count = re.subn(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                )
                assert count == 1
            target.writestr(info, data)
    return out.getvalue()


def test_a_sheet_declaring_a_huge_size_is_read_by_its_real_cells(stats_data):
    content = xlsx_declaring("A1:XFD1048576")
    assert len(content) < 10_000
    started = time.monotonic()
    dataset = read_upload("huge.xlsx", content)
    assert time.monotonic() - started < 10
    assert len(dataset) == 6 and len(dataset.headers) == len(HEADER)
    assert run_import(dataset, dry_run=True).counts["new"] == 6


def test_a_cell_beyond_the_column_limit_is_a_clear_error(stats_data):
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(good_rows()[0])
    book.active.cell(row=2, column=16384, value="x")
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(UploadError) as caught:
        read_upload("wide.xlsx", out.getvalue())
    assert "Row 2" in str(caught.value) and "at most 100 columns" in str(caught.value)


def test_a_nul_byte_after_the_first_8_kb_of_a_csv_is_a_clear_error(stats_data):
    rows = good_rows() * 200
    content = csv_bytes(rows)
    assert len(content) > 9000
    content = content[:9000] + b"\x00" + content[9000:]
    with pytest.raises(UploadError) as caught:
        read_upload("nul.csv", content)
    assert "binary data" in str(caught.value)
    record = ImportRecord.objects.create(
        file_name="nul.csv", file_format="csv", content=content, status="checking"
    )
    import_tasks.check_import.call(record.pk)
    record.refresh_from_db()
    assert record.status == "rejected" and "binary data" in record.counts["errors"][0]


def test_a_nul_character_in_a_json_cell_names_its_row_and_column(stats_data):
    content = b'[{"jurisdiction": "MO", "metric": "test-cases", "footnote": "a\\u0000b"}]'
    with pytest.raises(UploadError) as caught:
        read_upload("nul.json", content)
    assert "Row 2, column 3" in str(caught.value)


def test_a_check_out_of_time_ends_with_a_message(stats_data, monkeypatch, settings):
    settings.STATS_IMPORT_TIME_BUDGET = 0
    monkeypatch.setattr(Budget, "check", lambda self: (_ for _ in ()).throw(OutOfTime(0)))
    rows = [
        ["MO", "test-months", str(1000 + i), "", "1", "", "", "", "", "test-report-2019"]
        for i in range(6000)
    ]
    record = ImportRecord.objects.create(
        file_name="slow.csv", file_format="csv", content=csv_bytes(rows), status="checking"
    )
    import_tasks.check_import.call(record.pk)
    record.refresh_from_db()
    assert record.status == "failed"
    assert "time budget" in record.message and "nothing was changed" in record.message


def test_an_import_whose_worker_died_may_be_confirmed_again(stats_data, client, manager):
    preview = run_import(read_upload("f.csv", csv_bytes(good_rows())), dry_run=True)
    record = ImportRecord.objects.create(
        file_name="f.csv",
        file_format="csv",
        content=csv_bytes(good_rows()),
        status="queued",
        digest=preview.digest,
        lease_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    alive = ImportRecord.objects.create(
        file_name="g.csv",
        file_format="csv",
        content=b"",
        status="queued",
        lease_until=timezone.now() + datetime.timedelta(minutes=5),
    )
    client.force_login(manager)
    client.get(reverse("stats_import:preview", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "previewed" and "nothing was changed" in record.message
    assert import_tasks.release_stranded() == 0  # the live worker's record is left alone
    alive.refresh_from_db()
    assert alive.status == "queued"
    ImportRecord.objects.filter(pk=record.pk).update(status="queued")
    import_tasks.apply_import.call(record.pk, manager.pk)
    record.refresh_from_db()
    assert record.status == "imported" and Observation.objects.count() == 6
    assert record.lease_until is None
