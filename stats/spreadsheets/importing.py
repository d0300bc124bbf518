"""Running an import: all or nothing, with row-level messages and a record of it."""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from wagtail.models import ModelLogEntry

from ..checks import breakdown_warnings, group_key
from ..models import ImportRecord, Observation, refresh_current
from .common import (
    COLUMNS,
    EXPORT_ONLY_COLUMNS,
    KEY_COLUMNS,
    MAX_STORED_MESSAGES,
    REQUIRED_COLUMNS,
    UNNAMED,
    normalise_header,
)
from .resource import ObservationResource

# --- Running an import ---------------------------------------------------------------------


@dataclass
class ImportOutcome:
    dry_run: bool
    counts: dict = field(
        default_factory=lambda: {
            "total": 0,
            "new": 0,
            "updated": 0,
            "unchanged": 0,
            "error": 0,
            "warning": 0,
        }
    )
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors

    @property
    def imported(self):
        return self.ok and not self.dry_run

    def summary(self):
        c = self.counts
        return (
            f"{c['total']} rows: {c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['error']} with errors, {c['warning']} with warnings."
        )


def check_columns(headers):
    """(errors, warnings) about the header row."""
    headers = list(headers or [])
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    errors = []
    if missing:
        errors.append(
            "Required column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f'"{c}"' for c in missing)
            + " missing from the header row. The columns are: "
            + ", ".join(COLUMNS)
            + "."
        )
    unknown = [h for h in headers if h not in COLUMNS and h not in EXPORT_ONLY_COLUMNS]
    warnings = [
        f"Column {h.removeprefix(UNNAMED)} has no header; it was ignored."
        if h.startswith(UNNAMED)
        else f'Column "{h}" is not part of the format and was ignored.'
        for h in unknown
    ]
    return errors, warnings


def run_import(dataset, dry_run=True, user=None, progress=None, keep_existing=False):
    """Import a dataset of observations, all or nothing. Returns an ImportOutcome.

    keep_existing: only add what is missing, leaving every value already in the store as it
    is (the shipped dataset, loaded again, must not undo a data manager's correction).
    """
    outcome = ImportOutcome(dry_run=dry_run)
    if not hasattr(dataset, "source_rows"):  # not from read_upload, which normalises them
        dataset.headers = [normalise_header(h) for h in dataset.headers or []]
    outcome.counts["total"] = len(dataset)
    errors, warnings = check_columns(dataset.headers)
    outcome.warnings += warnings
    if errors:
        outcome.errors += errors
        return outcome
    if not len(dataset):
        outcome.errors.append("The file has a header row but no data rows.")
        return outcome

    resource = ObservationResource(user=user, progress=progress, keep_existing=keep_existing)
    with transaction.atomic():
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
        )
        for invalid in result.invalid_rows:
            line = resource.line(invalid.number)
            for column, messages in invalid.error_dict.items():
                for message in messages:
                    where = (
                        "columns " + ", ".join(KEY_COLUMNS)
                        if column == "key"
                        else f"column {column}"
                    )
                    outcome.errors.append(f"row {line}, {where}: {message}")
        for error_row in result.row_errors():
            number, row_errors = error_row
            for error in row_errors:
                outcome.errors.append(f"row {resource.line(number)}: {error.error}")
        for error in result.base_errors:
            outcome.errors.append(f"The import failed: {error.error}")
        totals = result.totals
        outcome.counts.update(
            new=totals.get("new", 0),
            updated=totals.get("update", 0),
            unchanged=totals.get("skip", 0),
            error=totals.get("invalid", 0) + totals.get("error", 0),
        )
        outcome.changes = resource.changes
        # Breakdowns that do not add up: a warning, never an error. The file's rows are checked
        # with the stored figures of the same groups (already loaded by the resource).
        lines = {id(o): resource.line(n) for n, o in resource.instances}
        in_file = [o for _, o in resource.instances]
        groups = {group_key(o) for o in in_file}
        keys = {(*o.key, o.source_id) for o in in_file}
        stored = [
            o for key, o in resource.existing.items() if key not in keys and group_key(o) in groups
        ]
        warned_rows = set()
        for warning in breakdown_warnings([*in_file, *stored]):
            rows = sorted(lines[id(o)] for o in warning.observations if id(o) in lines)
            warned_rows.update(rows)
            outcome.warnings.append(f"rows {', '.join(map(str, rows))}: {warning.message}")
        outcome.counts["warning"] = len(warned_rows)
        if not dry_run and outcome.ok:
            # Bulk writes send no signals: keep the current flags here. Only a new row can
            # change which edition is newest (an update keeps its key and its edition).
            refresh_current(o.key for o in resource.created)
            _log_updates(resource.updated, user)
            saved = [o for _, o in resource.instances if o.pk is not None]
            transaction.on_commit(lambda: _after_import(saved))
        elif not dry_run:
            transaction.set_rollback(True)
    return outcome


def _log_updates(observations, user):
    """One Wagtail log entry per updated observation, in one bulk insert."""
    if not observations:
        return
    content_type = ContentType.objects.get_for_model(Observation)
    now = timezone.now()
    ModelLogEntry.objects.bulk_create(
        [
            ModelLogEntry(
                content_type=content_type,
                object_id=str(o.pk),
                label=str(o)[:255],
                action="wagtail.edit",
                data={"source": "spreadsheet import"},
                timestamp=now,
                user=user if user is not None and user.pk else None,
                content_changed=True,
            )
            for o in observations
        ],
        batch_size=1000,
    )


def _after_import(observations):
    """Refresh what depends on model signals, which bulk writes do not send: the public page
    cache. (Observations are not in the search index, so nothing else depends on them.)"""
    from portal.cache import invalidate_public_pages

    invalidate_public_pages()


def record_import(name, content, outcome, user=None, record=None):
    """Create or update the ImportRecord of an import (not of a dry run)."""
    if record is None:
        record = ImportRecord(
            file_name=name[:255],
            file_format=name.rsplit(".", 1)[-1].lower()[:8],
            content=content,
            user=user if user is not None and user.pk else None,
        )
    record.counts = dict(
        outcome.counts,
        errors=outcome.errors[:MAX_STORED_MESSAGES],
        errors_total=len(outcome.errors),
        warnings=outcome.warnings[:MAX_STORED_MESSAGES],
        warnings_total=len(outcome.warnings),
    )
    record.changes = outcome.changes
    if outcome.dry_run:
        record.status = (
            ImportRecord.Status.PREVIEWED if outcome.ok else ImportRecord.Status.REJECTED
        )
    else:
        record.status = ImportRecord.Status.IMPORTED if outcome.ok else ImportRecord.Status.REJECTED
        if outcome.ok:
            record.imported_at = timezone.now()
    record.save()
    return record
