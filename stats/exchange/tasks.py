"""Background tasks of the figures import (django-tasks; the database backend by default).

check_import: read and check an uploaded file, and store its preview on the ImportRecord.
apply_import: import a confirmed preview through the one write path (run_import), at once
or, for a scheduled release, at its time (enqueued with run_after). Both report their
progress and result on the record, which the admin shows.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from stats.exchange import UploadError, read_upload, record_import, run_import
from stats.models import ImportRecord

logger = logging.getLogger(__name__)
Status = ImportRecord.Status


def _progress(record_id, verb):
    def report(rows):
        ImportRecord.objects.filter(pk=record_id).update(
            progress=rows, message=f"{verb} row {rows:,}"
        )

    return report


def _fail(record_id, message):
    ImportRecord.objects.filter(pk=record_id).update(status=Status.FAILED, message=message)


@task()
def check_import(record_id):
    """Make the preview of an uploaded file (a dry run)."""
    record = ImportRecord.objects.filter(pk=record_id, status=Status.CHECKING).first()
    if record is None:
        return "gone"
    try:
        try:
            dataset = read_upload(record.file_name, bytes(record.content))
        except UploadError as e:
            record.status = Status.REJECTED
            record.counts = {
                "errors": e.messages,
                "errors_total": len(e.messages),
                "error": len(e.messages),
            }
            record.save(update_fields=["status", "counts"])
            return record.status
        outcome = run_import(
            dataset, dry_run=True, user=record.user, progress=_progress(record_id, "Checked")
        )
        record.refresh_from_db(fields=["status"])
        record.message = ""
        record_import(record.file_name, b"", outcome, record=record)
    except Exception:
        logger.exception("Checking import %s failed", record_id)
        _fail(record_id, "Checking the file failed unexpectedly; nothing was changed.")
        raise
    return record.status


@task()
def apply_import(record_id, user_id=None):
    """Import a confirmed preview, if the store has not changed since it was made."""
    with transaction.atomic():
        record = (
            ImportRecord.objects.select_for_update()
            .filter(pk=record_id, status__in=[Status.QUEUED, Status.SCHEDULED])
            .first()
        )
        if record is None:  # cancelled, or already applied
            return "gone"
        if (
            record.status == Status.SCHEDULED
            and record.go_live_at
            and record.go_live_at > timezone.now()
        ):
            # Run before its time (a worker's clock, a restarted queue): apply nothing, and
            # queue the release again for its time, or it would never happen.
            again = apply_import.using(run_after=record.go_live_at)
            again.enqueue(record_id, user_id)
            return "early"
        record.status = Status.QUEUED
        record.save(update_fields=["status"])
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        dataset = read_upload(record.file_name, bytes(record.content))
        outcome = run_import(
            dataset,
            dry_run=False,
            user=user,
            record=record,
            expected_digest=record.digest,
            progress=_progress(record_id, "Imported"),
        )
        if outcome.stale:
            # Show the preview again, made from the store as it is now.
            fresh = run_import(dataset, dry_run=True, user=user)
            fresh.stale = outcome.stale
            outcome = fresh
        record_import(record.file_name, b"", outcome, user=user, record=record)
    except UploadError as e:
        _fail(record_id, " ".join(e.messages))
        return Status.FAILED
    except Exception:
        logger.exception("Import %s failed", record_id)
        _fail(record_id, "The import failed unexpectedly; nothing was changed.")
        raise
    return record.status
