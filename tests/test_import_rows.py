"""Row-level checks of the spreadsheet import: every bad row is reported, nothing is saved."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stats.exchange import read_upload, record_import, run_import
from stats.models import ImportRecord, Observation, ObservationChange, attach_replaced
from tests.stats_fixtures import HEADER, csv_bytes, good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


def row(**changes):
    """One valid count row, with some cells changed."""
    values = dict(zip(HEADER, good_rows()[0], strict=True))
    values.update(changes)
    return [values[h] for h in HEADER]


def import_rows(rows, dry_run=False, fmt="csv", header=HEADER):
    content = csv_bytes(rows, header=header) if fmt == "csv" else xlsx_bytes(rows, header=header)
    return run_import(read_upload(f"figures.{fmt}", content), dry_run=dry_run)


def assert_rejected(rows, expected, fmt="csv"):
    """The import reports `expected` and changes nothing, even when not a dry run."""
    before = Observation.objects.count()
    outcome = import_rows(rows, dry_run=False, fmt=fmt)
    assert not outcome.ok
    assert any(expected in error for error in outcome.errors), outcome.errors
    assert Observation.objects.count() == before
    return outcome


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_unknown_jurisdiction_suggests_the_closest(stats_data, fmt):
    outcome = assert_rejected(
        [row(jurisdiction="Missuori")],
        'row 2, column jurisdiction: Unknown jurisdiction "Missuori"',
        fmt=fmt,
    )
    assert "Did you mean MO (Missouri)?" in outcome.errors[0]


def test_unknown_metric_suggests_the_closest(stats_data):
    outcome = assert_rejected(
        [row(metric="test-case")], 'column metric: Unknown metric "test-case"'
    )
    assert 'Did you mean "test-cases"?' in outcome.errors[0]


def test_unknown_source_suggests_the_closest(stats_data):
    outcome = assert_rejected(
        [row(source="test-report-2091")], 'column source: Unknown source "test-report-2091"'
    )
    assert "Did you mean" in outcome.errors[0]


def test_unknown_breakdown_suggests_the_closest(stats_data):
    outcome = assert_rejected(
        [row(breakdown="sexx")], 'column breakdown: Unknown breakdown "sexx" for "test-cases"'
    )
    assert 'Did you mean "sex"?' in outcome.errors[0]


def test_breakdown_for_a_metric_without_one(stats_data):
    assert_rejected([row(metric="test-months", breakdown="sex")], '"test-months" has no breakdown')


def test_value_not_a_number(stats_data):
    assert_rejected([row(value="about 200")], 'row 2, column value: "about 200" is not a number.')


def test_value_missing(stats_data):
    assert_rejected([row(value="")], "row 2, column value: A value is required.")


@pytest.mark.parametrize(
    "metric, value, message",
    [
        ("test-share", "130", "A percent must lie between 0 and 100 (got 130)"),
        ("test-cases", "-4", "A count cannot be negative"),
        ("test-cases", "12.5", "A count must be a whole number"),
        ("test-rank", "60", "A rank must be a whole number from 1 to 56"),
        ("test-months", "-1", "A number of months cannot be negative"),
        ("test-cases", "12%", "has a percent sign, but this figure is not a percent"),
    ],
)
def test_value_out_of_range_for_its_unit(stats_data, metric, value, message):
    outcome = assert_rejected([row(metric=metric, value=value, breakdown="")], "column value: ")
    assert message in outcome.errors[0]


def test_numerator_above_denominator(stats_data):
    assert_rejected(
        [row(metric="test-share", value="50", numerator="12", denominator="10")],
        "row 2, column numerator: The numerator (12) cannot be above the denominator (10).",
    )


def test_percent_disagreeing_with_n_of_m(stats_data):
    assert_rejected(
        [row(metric="test-share", value="30", numerator="1", denominator="4")],
        "column value: 30% does not agree with 1 of 4",
    )


def test_rank_column_out_of_range(stats_data):
    assert_rejected(
        [row(rank="0")], "row 2, column rank: A rank must be a whole number from 1 to 56"
    )


@pytest.mark.parametrize(
    "period, message",
    [
        ("2019-13/2020-01", "has a month outside 1 to 12"),
        ("19", "is not a period"),
        ("last year", "is not a period"),
        ("1985", "The period must lie between 1990"),
        ("2099", "The period must lie between 1990"),
        ("2016-12/2012-12", "ends before it starts"),
        ("", "A period is required"),
    ],
)
def test_malformed_or_out_of_range_period(stats_data, period, message):
    outcome = assert_rejected([row(period=period)], "row 2, column period: ")
    assert message in outcome.errors[0]


def test_same_key_twice_in_one_file(stats_data):
    outcome = assert_rejected(
        [row(), row(value="234")], "row 3, columns jurisdiction, metric, period, breakdown, source"
    )
    assert "already in row 2" in outcome.errors[0]


def test_same_key_with_breakdown_by_slug_and_label(stats_data):
    assert_rejected([row(breakdown="sex"), row(breakdown="SEX TRAFFICKING")], "already in row 2")


def test_missing_required_column(stats_data):
    header = [h for h in HEADER if h != "source"]
    rows = [r[:-1] for r in good_rows()]
    outcome = import_rows(rows, header=header)
    assert outcome.errors == [
        'Required column "source" missing from the header row. The columns are: '
        "jurisdiction, metric, period, breakdown, value, numerator, denominator, rank, "
        "footnote, footnote_es, source."
    ]
    assert Observation.objects.count() == 0


def test_unknown_column_is_a_warning(stats_data):
    rows = [r + ["a note"] for r in good_rows()]
    outcome = import_rows(rows, header=HEADER + ["Comments"])
    assert outcome.ok
    assert 'Column "comments" is not part of the format and was ignored.' in outcome.warnings
    assert Observation.objects.count() == 6


def test_one_bad_row_rejects_the_whole_file(stats_data):
    rows = good_rows() + [row(jurisdiction="ZZ", period="2018")]
    outcome = assert_rejected(rows, "row 8, column jurisdiction")
    assert outcome.counts["error"] == 1
    assert outcome.counts["new"] == 6  # what would have been imported


def test_every_error_of_a_row_is_reported(stats_data):
    outcome = assert_rejected(
        [row(jurisdiction="ZZ", period="1900", value="x")], "row 2, column jurisdiction"
    )
    columns = {error.split(":")[0] for error in outcome.errors}
    assert columns == {"row 2, column jurisdiction", "row 2, column period", "row 2, column value"}


def test_stray_spaces_thousands_and_percent_signs_are_normalised(stats_data):
    rows = [
        [
            "\u00a0MO ",
            " test-cases",
            " 2019\u00a0",
            "",
            "1,234",
            "",
            "",
            "",
            "",
            "test-report-2019 ",
        ],
        ["US", "test-share", "2019", "", " 22% ", "", "", "", "", "test-report-2019"],
        [
            "US",
            "test-cases",
            "2019",
            "  Sex\u00a0 trafficking ",
            "12 345",
            "",
            "",
            "",
            "",
            "test-report-2019",
        ],
    ]
    outcome = import_rows(rows)
    assert outcome.errors == []
    assert Observation.objects.get(jurisdiction__code="MO").value == 1234
    assert Observation.objects.get(metric__slug="test-share").value == 22
    assert Observation.objects.get(breakdown__slug="sex").value == 12345


def test_same_file_again_is_unchanged_and_writes_nothing(stats_data):
    import_rows(good_rows())
    stamps = dict(Observation.objects.values_list("pk", "updated_at"))
    with CaptureQueriesContext(connection) as queries:
        outcome = import_rows(good_rows())
    assert outcome.counts == {
        "total": 6,
        "new": 0,
        "replacing": 0,
        "updated": 0,
        "unchanged": 6,
        "error": 0,
        "warning": 0,
        "error_rows": 0,
    }
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert dict(Observation.objects.values_list("pk", "updated_at")) == stamps


def test_changed_value_is_updated_and_logged(stats_data, django_user_model):
    import_rows(good_rows())
    user = django_user_model.objects.create_user("manager", password="x" * 12)
    rows = good_rows()
    rows[0][4] = "234"
    rows[4][8] = "2 of 50 excluded"
    content = csv_bytes(rows)
    outcome = run_import(read_upload("v2.csv", content), dry_run=False, user=user)
    assert outcome.counts["updated"] == 2 and outcome.counts["unchanged"] == 4
    assert Observation.objects.get(breakdown=None, metric__slug="test-cases").value == 234
    change = outcome.changes[0]
    assert change["row"] == 2
    assert change["fields"] == {"value": ["233", "234"]}
    assert outcome.changes[1]["fields"] == {"footnote": ["1 of 50 excluded", "2 of 50 excluded"]}
    record = record_import("v2.csv", content, outcome, user=user)
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.IMPORTED and record.user == user
    assert record.changes[0]["fields"]["value"] == ["233", "234"]
    assert bytes(record.content) == content
    history = ObservationChange.objects.filter(action="updated", user=user)
    assert history.count() == 2
    assert {c.old["value"] + "->" + c.new["value"] for c in history} >= {"233->234"}
    assert all(c.import_record == record for c in history)


def test_dry_run_reports_changes_but_writes_nothing(stats_data):
    import_rows(good_rows())
    rows = good_rows()
    rows[0][4] = "240"
    outcome = import_rows(rows, dry_run=True)
    assert outcome.counts["updated"] == 1
    assert outcome.changes[0]["fields"] == {"value": ["233", "240"]}
    assert Observation.objects.get(breakdown=None, metric__slug="test-cases").value == 233


def test_breakdown_not_adding_up_is_a_warning(stats_data):
    rows = good_rows()
    rows[1][4] = "181"  # 181 + 53 = 234, total 233
    outcome = import_rows(rows)
    assert outcome.ok
    assert outcome.counts["warning"] == 1  # one message, about rows 2, 3 and 4
    assert outcome.warnings[0].startswith("rows 2, 3, 4:")
    assert any("adds up to 234 but the total is 233" in w for w in outcome.warnings)
    assert Observation.objects.count() == 6


def test_restatement_in_a_newer_edition_is_a_new_row(stats_data):
    import_rows(good_rows())
    rows = [row(period="2018", value="232", source="test-report-2018"), row(period="2018")]
    outcome = import_rows(rows)
    assert outcome.counts["new"] == 2
    current = attach_replaced(
        list(Observation.objects.filter(metric__slug="test-cases", breakdown=None).current())
    )
    assert [(o.period, o.value) for o in current] == [("2018", 233), ("2019", 233)]
    assert [o.value for o in current[0].replaced] == [232]


def many_rows(count):
    codes = ["MO", "US", "KS", "IL", "AR", "IA", "NE", "OK", "TN", "KY"]
    return [
        [
            codes[i % 10],
            "test-cases",
            str(1995 + i // 10),
            "",
            str(i),
            "",
            "",
            "",
            "",
            "test-report-2019",
        ]
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [5, 70])
def test_queries_do_not_grow_with_rows(stats_data, count, django_assert_max_num_queries):
    """One query per referenced table and one for existing rows, whatever the size.

    The rest are savepoints; a real import adds one insert per batch (70 rows fit in one)
    and two for the data version (its bump and its new value).
    """
    content = csv_bytes(many_rows(count))
    with django_assert_max_num_queries(16):
        outcome = run_import(read_upload("many.csv", content), dry_run=True)
    assert outcome.counts["new"] == count
    with django_assert_max_num_queries(24):
        outcome = run_import(read_upload("many.csv", content), dry_run=False)
    assert Observation.objects.count() == count
    with CaptureQueriesContext(connection) as queries:
        outcome = run_import(read_upload("many.csv", content), dry_run=False)
    assert outcome.counts["unchanged"] == count
    # On PostgreSQL a streamed read is a server-side cursor: DECLARE ... CURSOR FOR SELECT.
    selects = [q["sql"] for q in queries if re.match(r"(DECLARE .* CURSOR FOR )?SELECT", q["sql"])]
    assert len(selects) == 5, [sql[:120] for sql in selects]


def test_real_import_refreshes_public_pages_after_commit(
    stats_data, monkeypatch, django_capture_on_commit_callbacks
):
    from stats.signals import figures_changed

    # The page cache is keyed by the data version; its listeners hear figures_changed.
    calls = []
    monkeypatch.setattr(figures_changed, "send", lambda *a, **kw: calls.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        import_rows(good_rows(), dry_run=True)
    assert calls == []
    with django_capture_on_commit_callbacks(execute=True):
        import_rows(good_rows(), dry_run=False)
    assert calls == [1]
    with django_capture_on_commit_callbacks(execute=True):
        import_rows([row(value="x")], dry_run=False)  # rejected: nothing to refresh
    assert calls == [1]


def test_a_value_is_checked_against_the_stored_numerator_when_the_file_leaves_it_out(
    stats_data,
):
    rows = good_rows()
    assert run_import(read_upload("f.csv", csv_bytes(rows)), dry_run=False).ok
    # test-share is stored as 22.5 (9 of 40); a file without the n-of-m columns changes the
    # value alone, so 50 would disagree with the 9 of 40 that stays stored.
    header = ["jurisdiction", "metric", "period", "value", "source"]
    row = ["US", "test-share", "2012-12/2016-12", "50", "test-report-2019"]
    outcome = run_import(read_upload("f.csv", csv_bytes([row], header=header)), dry_run=False)
    assert not outcome.ok
    assert any("does not agree with 9 of 40" in e for e in outcome.errors), outcome.errors
    assert Observation.objects.get(metric__slug="test-share").value == Decimal("22.5")


def test_a_breakdown_is_checked_against_the_total_already_stored(stats_data):
    total, *parts = good_rows()[:3]  # 233, with categories 180 and 53
    assert run_import(read_upload("f.csv", csv_bytes([total])), dry_run=False).ok
    parts[1][4] = "54"  # 180 + 54 = 234, against the stored total of 233
    outcome = run_import(read_upload("f.csv", csv_bytes(parts)), dry_run=True)
    assert outcome.ok
    assert outcome.counts["warning"] == 1
    assert any("adds up to 234 but the total is 233" in w for w in outcome.warnings)
