"""The import_stats and export_stats management commands."""

import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stats.management.commands.import_stats import Command as ImportCommand
from stats.models import ImportRecord, Observation
from tests.stats_fixtures import csv_bytes, good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_cli(*args):
    """Run like `manage.py import_stats ...`; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    command = ImportCommand(stdout=out, stderr=err)
    # run_from_argv closes every connection when it ends, as a process would; inside the
    # test's transaction on PostgreSQL that would lose the transaction.
    with mock.patch("django.core.management.base.connections.close_all"):
        try:
            command.run_from_argv(["manage.py", "import_stats", *map(str, args)])
            status = 0
        except SystemExit as e:
            status = e.code
    return status, out.getvalue(), err.getvalue()


def test_import_exits_0_and_summarises(stats_data, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(good_rows()))
    status, out, err = run_cli(path)
    assert status == 0, err
    assert "Imported: 6 rows: 6 new, 0 updated, 0 unchanged" in out
    assert Observation.objects.count() == 6
    record = ImportRecord.objects.get()
    assert record.status == "imported" and record.counts["new"] == 6 and record.user is None


def test_dry_run_saves_nothing(stats_data, tmp_path):
    path = tmp_path / "figures.xlsx"
    path.write_bytes(xlsx_bytes(good_rows()))
    status, out, _err = run_cli(path, "--dry-run")
    assert status == 0
    assert "Dry run, nothing saved: 6 rows: 6 new" in out
    assert Observation.objects.count() == 0


def test_rejected_file_exits_1_with_row_messages(stats_data, tmp_path):
    rows = good_rows()
    rows[2][4] = "lots"
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(rows))
    status, _out, err = run_cli(path)
    assert status == 1
    assert 'row 4, column value: "lots" is not a number.' in err
    assert "Rejected, nothing was changed." in err
    assert Observation.objects.count() == 0
    assert ImportRecord.objects.get().status == "rejected"


def test_unreadable_file_exits_1(stats_data, tmp_path):
    path = tmp_path / "figures.xlsx"
    path.write_bytes(b"garbage")
    status, _out, err = run_cli(path)
    assert status == 1
    assert "cannot be read as an Excel workbook" in err


def test_missing_file_is_a_usage_error(tmp_path):
    status, _out, err = run_cli(tmp_path / "nope.csv")
    assert status == 2
    assert "No such file" in err


def test_bad_arguments_are_a_usage_error(capsys):
    status, _out, _err = run_cli("--no-such-option")
    assert status == 2


def test_progress_bar_on_a_terminal(stats_data, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(good_rows()))
    terminal = Terminal()
    call_command("import_stats", str(path), stdout=terminal)
    assert "\r[" in terminal.getvalue() and "6/6 rows" in terminal.getvalue()
    plain = io.StringIO()
    call_command("import_stats", str(path), stdout=plain)
    assert "\r[" not in plain.getvalue()
    assert "6 unchanged" in plain.getvalue()


def test_export_command_formats_and_filters(stats_data, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(good_rows()))
    call_command("import_stats", str(path), stdout=io.StringIO())
    for fmt in ("csv", "xlsx", "json"):
        target = tmp_path / f"out.{fmt}"
        call_command("export_stats", str(target), stdout=io.StringIO())
        assert target.stat().st_size > 0
    target = tmp_path / "mo.csv"
    call_command(
        "export_stats",
        str(target),
        "--jurisdiction",
        "mo",
        "--metric",
        "test-cases",
        "--period-from",
        "2019",
        "--period-to",
        "2019",
        stdout=io.StringIO(),
    )
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 4  # header + total + 2 categories
    assert all(line.startswith("MO,test-cases,2019") for line in lines[1:])
    target = tmp_path / "old.csv"
    call_command("export_stats", str(target), "--source", "test-report-2018", stdout=io.StringIO())
    assert len(target.read_text(encoding="utf-8-sig").splitlines()) == 3


def test_export_history_keeps_replaced_values(stats_data, tmp_path):
    rows = good_rows() + [
        ["MO", "test-cases", "2019", "", "231", "", "", "", "", "test-report-2018"]
    ]
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_bytes(rows))
    call_command("import_stats", str(path), stdout=io.StringIO())
    current, history = tmp_path / "current.csv", tmp_path / "history.csv"
    call_command("export_stats", str(current), stdout=io.StringIO())
    call_command("export_stats", str(history), "--history", stdout=io.StringIO())
    assert ",231," not in current.read_text(encoding="utf-8-sig")
    assert ",231," in history.read_text(encoding="utf-8-sig")


def test_export_command_usage_errors(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("export_stats", str(tmp_path / "out.pdf"))
    assert caught.value.returncode == 2
    with pytest.raises(CommandError) as caught:
        call_command("export_stats", str(tmp_path / "out.csv"), "--period-from", "soon")
    assert caught.value.returncode == 2
