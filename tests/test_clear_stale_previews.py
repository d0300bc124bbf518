"""Previews never confirmed are deleted, with their files, after STATS_PREVIEW_MAX_AGE_HOURS."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from stats.models import ImportRecord

pytestmark = pytest.mark.django_db

Status = ImportRecord.Status


def record(hours_old, status=Status.PREVIEWED):
    made = ImportRecord.objects.create(
        file_name=f"{hours_old}h-{status}.csv",
        file_format="csv",
        content=b"x" * 1000,
        status=status,
    )
    # created_at is set on save (auto_now_add): age it afterwards.
    ImportRecord.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - timedelta(hours=hours_old)
    )
    return made


def run(*args):
    out = StringIO()
    call_command("clear_stale_previews", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def records():
    return {
        "stale": record(73),
        "fresh": record(71),
        "imported": record(500, Status.IMPORTED),
        "rejected": record(500, Status.REJECTED),
    }


def names():
    return set(ImportRecord.objects.values_list("file_name", flat=True))


def test_deletes_only_unconfirmed_previews_older_than_the_setting(records, settings):
    settings.STATS_PREVIEW_MAX_AGE_HOURS = 72
    assert "Deleted 1 preview(s) older than 72 hours." in run()
    assert names() == {records[k].file_name for k in ("fresh", "imported", "rejected")}
    assert "Deleted 0 preview(s)" in run()  # nothing left to do


def test_the_setting_and_the_option_set_the_age(records, settings):
    settings.STATS_PREVIEW_MAX_AGE_HOURS = 100
    run()
    assert records["stale"].file_name in names()
    run("--hours", "1")
    assert records["fresh"].file_name not in names()
    assert records["imported"].file_name in names()


def test_dry_run_deletes_nothing(records):
    assert "2 preview(s) older than 1 hours would be deleted." in run("--hours", "1", "--dry-run")
    assert len(names()) == 4


def test_an_age_below_one_hour_is_refused(records):
    with pytest.raises(CommandError, match="1 or more"):
        run("--hours", "0")
    assert len(names()) == 4
