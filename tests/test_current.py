"""The `is_current` flag: kept true for the newest edition of each figure by every write."""

import datetime
import importlib

import pytest
from django.apps import apps

from stats.exchange import read_upload, run_import
from stats.models import Jurisdiction, Observation, Source, attach_replaced, refresh_current
from tests.stats_fixtures import csv_bytes

pytestmark = pytest.mark.django_db


def add(stats_data, source, value, year=2018, code="MO", breakdown=None):
    return Observation.objects.create(
        metric=stats_data["metrics"]["cases"],
        jurisdiction=Jurisdiction.objects.get(code=code),
        period_start=datetime.date(year, 1, 1),
        period_end=datetime.date(year, 12, 31),
        breakdown=breakdown,
        value=value,
        source=source,
    )


def flags():
    return sorted(
        Observation.objects.values_list("period_start__year", "source__slug", "value", "is_current")
    )


def test_create_edit_and_delete_keep_the_newest_edition_current(stats_data):
    old = add(stats_data, stats_data["old"], 171)
    assert old.is_current
    new = add(stats_data, stats_data["new"], 170)
    old.refresh_from_db()
    assert new.is_current and not old.is_current
    # Moving the newer value to another year makes the older one current again.
    new.period_start, new.period_end = datetime.date(2017, 1, 1), datetime.date(2017, 12, 31)
    new.save()
    assert flags() == [
        (2017, "test-report-2019", 170, True),
        (2018, "test-report-2018", 171, True),
    ]
    old.delete()
    new.delete()
    add(stats_data, stats_data["old"], 5)
    assert flags() == [(2018, "test-report-2018", 5, True)]


def test_a_change_of_edition_order_moves_the_flag(stats_data):
    add(stats_data, stats_data["old"], 171)
    add(stats_data, stats_data["new"], 170)
    older = Source.objects.get(pk=stats_data["old"].pk)
    older.edition_year = 2020
    older.save()
    assert flags() == [
        (2018, "test-report-2018", 171, True),
        (2018, "test-report-2019", 170, False),
    ]
    # Same year: the one with a publication date is newer than the one without.
    older.edition_year = 2019
    older.save()
    newer = Source.objects.get(pk=stats_data["new"].pk)
    newer.published_on = datetime.date(2019, 6, 1)
    newer.save()
    assert [f[3] for f in flags()] == [False, True]


def test_import_sets_the_flags_of_new_rows(stats_data):
    row = ["MO", "test-cases", "2018", "", "171", "", "", "", "", "test-report-2018"]
    assert run_import(read_upload("a.csv", csv_bytes([row])), dry_run=False).ok
    newer = [*row[:4], "170", *row[5:9], "test-report-2019"]
    assert run_import(read_upload("b.csv", csv_bytes([newer])), dry_run=False).ok
    assert flags() == [
        (2018, "test-report-2018", 171, False),
        (2018, "test-report-2019", 170, True),
    ]
    current = attach_replaced(list(Observation.objects.current()))
    assert [(o.value, [r.value for r in o.replaced]) for o in current] == [(170, [171])]


def test_an_older_edition_imported_after_the_newer_is_not_current(stats_data):
    """A new row is written current and refresh_current clears it when a newer edition of
    its figure is stored already."""
    newer = ["MO", "test-cases", "2018", "", "170", "", "", "", "", "test-report-2019"]
    assert run_import(read_upload("b.csv", csv_bytes([newer])), dry_run=False).ok
    older = [*newer[:4], "171", *newer[5:9], "test-report-2018"]
    assert run_import(read_upload("a.csv", csv_bytes([older])), dry_run=False).ok
    assert flags() == [
        (2018, "test-report-2018", 171, False),
        (2018, "test-report-2019", 170, True),
    ]


def test_refresh_is_bounded_and_touches_only_its_keys(stats_data, django_assert_max_num_queries):
    rows = [add(stats_data, stats_data["old"], year, year=year) for year in range(2000, 2020)]
    Observation.objects.update(is_current=False)  # as if written behind the model's back
    with django_assert_max_num_queries(2):
        refresh_current([rows[0].key, rows[1].key])
    assert Observation.objects.filter(is_current=True).count() == 2
    with django_assert_max_num_queries(2):
        refresh_current(o.key for o in rows)
    assert Observation.objects.filter(is_current=True).count() == 20


def test_migration_marks_the_newest_edition(stats_data):
    add(stats_data, stats_data["old"], 171)
    add(stats_data, stats_data["new"], 170)
    Observation.objects.update(is_current=False)
    migration = importlib.import_module("stats.migrations.0004_observation_is_current")
    migration.mark_current(apps, None)
    assert [f[3] for f in flags()] == [False, True]
