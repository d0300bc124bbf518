"""A figure's whole life: every import, edit, restore and revert on one history, each step
undoable in any consistent order, decided from the net effect of the later steps."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from stats.exchange import RevertRefused, export_dataset, read_upload, revert_import, run_import
from stats.exchange.importing import history_of, restore_change, restore_values
from stats.models import ImportRecord, Observation, ObservationChange
from tests.stats_fixtures import csv_bytes

pytestmark = pytest.mark.django_db

TOTAL = ["MO", "test-cases", "2019", "", "4", "", "", "", "", "test-report-2019"]


def row(value, period="2019", source="test-report-2019", metric="test-cases"):
    return ["MO", metric, period, "", str(value), "", "", "", "", source]


def import_file(tmp_path, name, rows):
    """Through the command line's path: a real CSV file, read and imported."""
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    call_command("import_stats", str(path), stdout=io.StringIO())
    return ImportRecord.objects.order_by("-pk").first()


def export():
    return export_dataset(Observation.objects.by_key(), "csv")


def total():
    return Observation.objects.get(metric__slug="test-cases", period_start__year=2019)


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("manager", password="x" * 16)


def test_revert_b_then_revert_a(stats_data, tmp_path):
    """import A (4 -> 5), import B (5 -> 6), revert B (back to 5), then revert A: the revert of
    B undid B's change, so nothing blocks A."""
    import_file(tmp_path, "start.csv", [row(4)])
    before = export()
    a = import_file(tmp_path, "A.csv", [row(5)])
    b = import_file(tmp_path, "B.csv", [row(6)])
    revert_import(b)
    assert total().value == 5
    revert_import(a)
    assert total().value == 4
    assert export() == before


def test_import_a_new_year_change_it_restore_then_undo_everything(stats_data, tmp_path):
    """import 3 adds a figure (9), import 4 changes it (9 -> 10), a restore sets 9 again: the
    restore can be undone, and then both imports revert, newest first or oldest first."""
    before = export()
    three = import_file(tmp_path, "3.csv", [row(9)])
    four = import_file(tmp_path, "4.csv", [row(10)])
    change = total().changes.get(import_record=four)
    restore = restore_change(change, reason="the source withdrew its correction")
    assert total().value == 9
    # The restore is a step like any other: undone by restoring the values before it.
    undo = restore_change(restore, reason="the correction stands")
    assert total().value == 10 and undo.via == "restore"
    restore_change(undo, reason="withdrawn after all")
    assert total().value == 9
    revert_import(four)  # its figure is already back at its value before it
    assert total().value == 9
    revert_import(three)  # the figure's value is still the one it was created with
    assert export() == before
    assert ImportRecord.objects.filter(status="reverted").count() == 2


def test_the_oldest_import_reverts_first_when_later_steps_netted_out(stats_data, tmp_path):
    three = import_file(tmp_path, "3.csv", [row(9)])
    four = import_file(tmp_path, "4.csv", [row(10)])
    restore_change(total().changes.get(import_record=four), reason="wrong")
    revert_import(three)
    assert not Observation.objects.exists()
    with pytest.raises(RevertRefused, match="deleted since"):
        revert_import(four)


def later_import(tmp_path, manager):
    import_file(tmp_path, "later.csv", [row(6)])


def later_edit(tmp_path, manager):
    o = total()
    o.value = 6
    o.save()
    ObservationChange.entry(o, "updated", "edit", old={"value": "5"}, new={"value": "6"}).save()


def later_restore(tmp_path, manager):
    restore_values(total(), {"value": "6"}, user=manager, reason="by hand")


@pytest.mark.parametrize("later", [later_import, later_edit, later_restore])
def test_a_revert_is_refused_when_a_figure_it_updated_changed_later(
    stats_data, tmp_path, manager, later
):
    import_file(tmp_path, "start.csv", [row(4)])
    before = export()
    a = import_file(tmp_path, "A.csv", [row(5)])
    later(tmp_path, manager)
    changed = export()
    with pytest.raises(RevertRefused, match="Test cases, Missouri, 2019"):
        revert_import(a)
    assert export() == changed and total().value == 6
    # Offered together with the later change: all of it goes back to before A.
    revert_import(a, with_later=True, reason="A was the wrong file")
    assert export() == before
    step = total().changes.filter(via="revert").get()
    assert (step.old["value"], step.new["value"], step.reason) == ("6", "4", "A was the wrong file")


def test_a_revert_is_refused_when_a_figure_it_created_changed_later(stats_data, tmp_path):
    a = import_file(tmp_path, "A.csv", [row(5)])
    restore_values(total(), {"value": "7"}, reason="typo in the report")
    with pytest.raises(RevertRefused):
        revert_import(a)
    revert_import(a, with_later=True)
    assert not Observation.objects.exists()


def test_history_starts_with_the_creation(stats_data, tmp_path):
    a = import_file(tmp_path, "A.csv", [row(5)])
    import_file(tmp_path, "B.csv", [row(6)])
    steps = history_of(total())
    assert [s.action for s in steps] == ["updated", "created"]
    assert steps[-1].import_record == a and steps[-1].new["value"] == "5"


def test_a_new_editions_row_is_listed_as_replacing_the_public_value(client, manager, stats_data):
    rank = ["MO", "test-rank", "2018", "", "4", "", "", "", "", "test-report-2018"]
    run_import(read_upload("old.csv", csv_bytes([rank])), dry_run=False)
    newer = ["MO", "test-rank", "2018", "", "5", "", "", "", "", "test-report-2019"]
    other = row(3)
    outcome = run_import(read_upload("new.csv", csv_bytes([newer, other])), dry_run=True)
    assert [r["observation"] for r in outcome.replacing_rows] == ["Test rank, Missouri, 2018"]
    replacing = outcome.replacing_rows[0]
    assert (replacing["before"]["value"], replacing["values"]["value"]) == ("4", "5")
    assert replacing["before_source"] == "test-report-2018"
    assert [r["observation"] for r in outcome.new_rows] == ["Test cases, Missouri, 2019"]
    client.force_login(manager)
    upload = io.BytesIO(csv_bytes([newer, other]))
    upload.name = "new.csv"
    response = client.post(reverse("stats_import:upload"), {"file": upload})
    html = client.get(response["Location"]).content.decode()
    assert "Replace the value visitors see (1)" in html
    assert "<td>4 (test-report-2018)</td><td>5 (test-report-2019)</td>" in html


def test_revert_asks_for_a_confirmation_with_a_summary(client, manager, stats_data, tmp_path):
    import_file(tmp_path, "start.csv", [row(4)])
    a = import_file(tmp_path, "A.csv", [row(5)])
    import_file(tmp_path, "B.csv", [row(6)])
    client.force_login(manager)
    url = reverse("stats_import:revert", args=[a.pk])
    preview = client.get(reverse("stats_import:preview", args=[a.pk])).content.decode()
    assert f'href="{url}"' in preview  # a link to the confirmation, not a one-click form
    html = client.get(url).content.decode()
    assert total().value == 6  # showing the summary changes nothing
    assert "<td>6</td><td>4</td>" in html and "Changed later (1)" in html
    assert "Revert this import and the later changes" in html
    client.post(url, {"with_later": "1", "reason": "wrong file"})
    assert total().value == 4
    a.refresh_from_db()
    assert a.status == "reverted"


def test_wagtails_history_of_an_observation_is_the_history_of_values(client, manager, stats_data):
    run_import(read_upload("a.csv", csv_bytes([TOTAL])), dry_run=False)
    client.force_login(manager)
    response = client.get(reverse("wagtailsnippets_stats_observation:history", args=[total().pk]))
    assert response["Location"] == reverse("stats_observation_history", args=[total().pk])


def test_an_import_carries_one_reason_on_every_change(client, stats_data, tmp_path):
    """`import_stats --reason`: the reason is on every change the import makes, and in the
    public revisions log beside each of them (a correction, and a new edition's value)."""
    import_file(tmp_path, "start.csv", [row(4), row(3, period="2018", source="test-report-2018")])
    path = tmp_path / "corrected.csv"
    path.write_bytes(csv_bytes([row(5), row(2, period="2018")]))  # 4 -> 5; a 2019 edition of 2018
    reason = "The source corrected its 2019 table"
    call_command("import_stats", str(path), "--reason", reason, stdout=io.StringIO())
    record = ImportRecord.objects.order_by("-pk").first()
    assert record.reason == reason
    changes = list(record.observation_changes.all())
    assert len(changes) == 1 and all(c.reason == reason for c in changes)
    log = client.get(reverse("revisions")).content.decode()
    assert log.count(f"<td>{reason}</td>") == 2
    assert 'data-kind="revision"' in log and 'data-kind="new_edition"' in log


def test_the_confirm_form_carries_the_imports_reason(client, manager, stats_data):
    import_file_rows = [row(4)]
    client.force_login(manager)
    upload = io.BytesIO(csv_bytes(import_file_rows))
    upload.name = "first.csv"
    client.post(reverse("stats_import:upload"), {"file": upload})
    first = ImportRecord.objects.order_by("-pk").first()
    client.post(reverse("stats_import:confirm", args=[first.pk]))
    upload = io.BytesIO(csv_bytes([row(6)]))
    upload.name = "second.csv"
    client.post(reverse("stats_import:upload"), {"file": upload})
    second = ImportRecord.objects.order_by("-pk").first()
    page = client.get(reverse("stats_import:preview", args=[second.pk])).content.decode()
    assert 'name="reason"' in page
    client.post(reverse("stats_import:confirm", args=[second.pk]), {"reason": "  A typo  "})
    second.refresh_from_db()
    assert second.status == "imported" and second.reason == "A typo"
    assert total().changes.get(import_record=second).reason == "A typo"
    shown = client.get(reverse("stats_import:preview", args=[second.pk])).content.decode()
    assert '<p class="import-reason">Reason given: A typo</p>' in shown
