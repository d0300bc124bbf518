"""Background tasks of the figures import (django-tasks; the database backend by default).

check_import: read and check an uploaded file, and store its preview on the ImportRecord.
apply_import: import a confirmed preview through the one write path (run_import), at once
or, for a scheduled release, at its time (enqueued with run_after). Both report their
progress and result on the record, which the admin shows.

Each task has a time budget (STATS_IMPORT_TIME_BUDGET) and holds a lease on its record,
renewed with its progress. A record whose lease ran out lost its worker (killed, or cut off
from the database): release_stranded() says so on the record, and a confirmed import may be
confirmed again. The write is one transaction, so nothing was changed.
"""

import datetime
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from stats.exchange import UploadError, read_upload, record_import, run_import
from stats.exchange.common import Budget, OutOfTime
from stats.models import ImportRecord

logger = logging.getLogger(__name__)
Status = ImportRecord.Status
LEASE_MARGIN = datetime.timedelta(seconds=60)  # beyond the budget, before a lease runs out
STRANDED = {
    Status.CHECKING: (
        Status.FAILED,
        "Checking the file stopped before it finished (its worker ended); nothing was "
        "changed. Upload the file again.",
    ),
    Status.QUEUED: (
        Status.PREVIEWED,
        "The import stopped before it finished (its worker ended); nothing was changed. "
        "Review the preview and confirm again.",
    ),
}


def _lease(budget):
    return timezone.now() + datetime.timedelta(seconds=budget.seconds) + LEASE_MARGIN


def out_of_time_message(budget, doing):
    minutes = max(1, round(budget.seconds / 60))
    return (
        f"{doing} took longer than its time budget of {minutes} minute"
        f"{'s' if minutes != 1 else ''} and was stopped; nothing was changed. Split the file "
        "into smaller files and try again."
    )


def release_stranded(records=None):
    """Records checking or importing whose worker's lease ran out: say so, and let a
    confirmed import be confirmed again. Returns how many were released."""
    records = ImportRecord.objects.all() if records is None else records
    released = 0
    for status, (new_status, message) in STRANDED.items():
        released += records.filter(status=status, lease_until__lt=timezone.now()).update(
            status=new_status, message=message, lease_until=None
        )
    return released


def _progress(record_id, verb, budget):
    def report(rows):
        ImportRecord.objects.filter(pk=record_id).update(
            progress=rows, message=f"{verb} row {rows:,}", lease_until=_lease(budget)
        )
        budget.check()

    return report


def _fail(record_id, message):
    ImportRecord.objects.filter(pk=record_id).update(
        status=Status.FAILED, message=message, lease_until=None
    )


def _reject(record, error):
    record.status = Status.REJECTED
    record.lease_until = None
    record.counts = {
        "errors": error.messages,
        "errors_total": len(error.messages),
        "error": len(error.messages),
    }
    record.save(update_fields=["status", "counts", "lease_until"])
    return record.status


@task()
def check_import(record_id):
    """Make the preview of an uploaded file (a dry run)."""
    release_stranded()
    budget = Budget()
    claimed = ImportRecord.objects.filter(pk=record_id, status=Status.CHECKING).update(
        lease_until=_lease(budget)
    )
    if not claimed:
        return "gone"
    record = ImportRecord.objects.get(pk=record_id)
    try:
        try:
            dataset = read_upload(record.file_name, bytes(record.content), budget=budget)
        except UploadError as e:
            return _reject(record, e)
        outcome = run_import(
            dataset,
            dry_run=True,
            user=record.user,
            progress=_progress(record_id, "Checked", budget),
        )
        record.refresh_from_db(fields=["status"])
        record.message, record.lease_until = "", None
        record_import(record.file_name, b"", outcome, record=record)
    except OutOfTime:
        _fail(record_id, out_of_time_message(budget, "Checking the file"))
        return Status.FAILED
    except Exception:
        logger.exception("Checking import %s failed", record_id)
        _fail(record_id, "Checking the file failed unexpectedly; nothing was changed.")
        raise
    return record.status


def _claim(record_id, budget, user_id):
    """The confirmed record, now importing under a lease; None (with why) if it is not due."""
    with transaction.atomic():
        record = (
            ImportRecord.objects.select_for_update()
            .filter(pk=record_id, status__in=[Status.QUEUED, Status.SCHEDULED])
            .first()
        )
        if record is None:  # cancelled, or already applied
            return None, "gone"
        if (
            record.status == Status.SCHEDULED
            and record.go_live_at
            and record.go_live_at > timezone.now()
        ):
            # Run before its time (a worker's clock, a restarted queue): apply nothing, and
            # queue the release again for its time, or it would never happen.
            again = apply_import.using(run_after=record.go_live_at)
            again.enqueue(record_id, user_id)
            return None, "early"
        record.status = Status.QUEUED
        record.lease_until = _lease(budget)
        record.save(update_fields=["status", "lease_until"])
    return record, None


@task()
def apply_import(record_id, user_id=None):
    """Import a confirmed preview, if the store has not changed since it was made."""
    release_stranded()
    budget = Budget()
    record, why = _claim(record_id, budget, user_id)
    if record is None:
        return why
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        dataset = read_upload(record.file_name, bytes(record.content), budget=budget)
        outcome = run_import(
            dataset,
            dry_run=False,
            user=user,
            record=record,
            expected_digest=record.digest,
            progress=_progress(record_id, "Imported", budget),
        )
        if outcome.stale:
            # Show the preview again, made from the store as it is now.
            fresh = run_import(dataset, dry_run=True, user=user)
            fresh.stale = outcome.stale
            outcome = fresh
        record.lease_until = None
        record_import(record.file_name, b"", outcome, user=user, record=record)
    except UploadError as e:
        _fail(record_id, " ".join(e.messages))
        return Status.FAILED
    except OutOfTime:
        _fail(record_id, out_of_time_message(budget, "The import"))
        return Status.FAILED
    except Exception:
        logger.exception("Import %s failed", record_id)
        _fail(record_id, "The import failed unexpectedly; nothing was changed.")
        raise
    return record.status
