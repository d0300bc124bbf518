"""Running an import: check every row, then write in one transaction, and record each change.

The one write path of figures from spreadsheets: the admin's background task, scheduled
releases, `import_stats` and the loading of a state's figures all call run_import. A revert
goes back through the changes an import recorded.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from stats.exchange.common import FIGURE_FIELDS, MAX_STORED_MESSAGES
from stats.exchange.validating import (
    check_columns,
    describe,
    figure_text,
    figure_values,
    locked_versions,
    plan_import,
    stored_versions,
)
from stats.models import (
    ImportRecord,
    Observation,
    ObservationChange,
    announce_figures_changed,
    refresh_current,
)

MAX_LISTED = 2000  # rows of each kind listed in a preview; the counts give the totals
MAX_NAMED = 20  # figures named in a stale or refused message

__all__ = [
    "ImportOutcome",
    "RevertRefused",
    "StaleImport",
    "check_columns",
    "record_import",
    "revert_import",
    "run_import",
]


class StaleImport(Exception):
    """The store changed since the plan was made: nothing was written."""

    def __init__(self, names):
        self.names = names
        super().__init__(_naming("The figures changed since this preview was made", names))


class RevertRefused(Exception):
    pass


class DatabaseBusy(Exception):
    """SQLite's one writer was busy for longer than its timeout: nothing was written."""

    message = (
        "The database was busy with another change and nothing was imported. "
        "Wait a moment and confirm again."
    )


def _naming(text, names):
    more = f" and {len(names) - MAX_NAMED:,} more" if len(names) > MAX_NAMED else ""
    return f"{text}: " + "; ".join(names[:MAX_NAMED]) + more + "."


@dataclass
class ImportOutcome:
    dry_run: bool
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    new_rows: list = field(default_factory=list)
    unchanged_rows: list = field(default_factory=list)
    digest: str = ""
    stale: list = field(default_factory=list)  # figures changed since the preview
    busy: bool = False
    record: ImportRecord | None = None
    keys: set = field(default_factory=set)  # (metric, jurisdiction, ...) of what was written

    @property
    def ok(self):
        return not self.errors and not self.stale and not self.busy

    @property
    def imported(self):
        return self.ok and not self.dry_run

    def summary(self):
        c = self.counts
        rows = "row" if c.get("total") == 1 else "rows"
        return (
            f"{c.get('total', 0):,} {rows}: {c.get('new', 0):,} new, {c.get('updated', 0):,} "
            f"updated, {c.get('unchanged', 0):,} unchanged, {c.get('error', 0):,} errors, "
            f"{c.get('warning', 0):,} warnings."
        )


def _outcome(plan, dry_run):
    outcome = ImportOutcome(
        dry_run=dry_run,
        errors=plan.errors,
        warnings=plan.warnings,
        digest=plan.digest if plan.ok else "",
    )
    outcome.counts = {
        "total": plan.total,
        "new": len(plan.new),
        "updated": len(plan.updated),
        "unchanged": len(plan.unchanged),
        "error": len(plan.errors),
        "error_rows": plan.error_rows,
        "warning": len(plan.warnings),
    }
    for planned in plan.updated[:MAX_LISTED]:
        outcome.changes.append(
            {
                "row": planned.line,
                **describe(planned.observation),
                "fields": {
                    k: [figure_text(old), figure_text(new)]
                    for k, (old, new) in planned.changes.items()
                },
            }
        )
    for planned in plan.new[:MAX_LISTED]:
        plan.rows.attach(planned.observation)
        values = {k: v for k, v in figure_values(planned.observation).items() if v != ""}
        outcome.new_rows.append(
            {"row": planned.line, **describe(planned.observation), "values": values}
        )
    for planned in plan.unchanged[:MAX_LISTED]:
        values = {k: v for k, v in figure_values(planned.observation).items() if v != ""}
        outcome.unchanged_rows.append(
            {"row": planned.line, **describe(planned.observation), "values": values}
        )
    return outcome


def run_import(
    dataset,
    dry_run=True,
    user=None,
    progress=None,
    keep_existing=False,
    record=None,
    expected_digest=None,
):
    """Import a dataset of observations, all or nothing. Returns an ImportOutcome.

    keep_existing: only add what is missing, leaving every value already in the store as it
    is (the shipped dataset, loaded again, must not undo a data manager's correction).
    record: the ImportRecord the changes are recorded under; one is made when something is
    written and none is given. expected_digest: the preview's digest; when the store has
    changed since, nothing is written and the outcome lists the figures (outcome.stale).
    """
    plan = plan_import(dataset, progress=progress, keep_existing=keep_existing)
    outcome = _outcome(plan, dry_run)
    if dry_run or not plan.ok:
        return outcome
    if expected_digest is not None and plan.digest != expected_digest:
        outcome.stale = _changed_since(plan)
        return outcome
    if not (plan.new or plan.updated) and record is None:
        return outcome
    if record is None:
        name = getattr(dataset, "file_name", "") or "import"
        record = ImportRecord(
            file_name=name[:255],
            file_format=name.rsplit(".", 1)[-1].lower()[:8],
            content=getattr(dataset, "content", b""),
            user=_user(user),
            status=ImportRecord.Status.QUEUED,
        )
    try:
        outcome.keys = write_plan(plan, user, record)
    except StaleImport as e:
        outcome.stale = e.names
        return outcome
    except DatabaseBusy:
        outcome.busy = True
        return outcome
    outcome.record = record_import(record.file_name, b"", outcome, user=user, record=record)
    return outcome


def _changed_since(plan):
    """Names of the planned figures whose stored rows differ from what the plan read."""
    keys = plan.keys
    current = stored_versions(keys)
    names = {p.key: plan.name(p) for p in (*plan.new, *plan.updated, *plan.unchanged)}
    return sorted(
        names.get(key, str(key)) for key in keys if current.get(key) != plan.versions.get(key)
    ) or ["the figures of this file"]


def _user(user):
    return user if user is not None and user.pk else None


def write_plan(plan, user, record):
    """Apply a plan in one transaction, under a lock of the rows it read. Raises StaleImport
    when any of them changed since the plan was made, or one it would create now exists."""
    now = timezone.now()
    try:
        with transaction.atomic():
            # The rows the plan read, locked by id; a row made meanwhile for a key the plan
            # creates fails the unique constraint (IntegrityError, below).
            if locked_versions(plan.versions) != plan.versions:
                raise StaleImport(_changed_since(plan))
            if record.pk is None:
                record.save()
            for planned in plan.new:
                planned.observation.created_by_import_id = record.pk
            Observation.objects.bulk_create([p.observation for p in plan.new], batch_size=2000)
            updated = [p.observation for p in plan.updated]
            for observation in updated:
                observation.updated_at = now
            Observation.objects.bulk_update(
                updated, [*FIGURE_FIELDS, "updated_at"], batch_size=1000
            )
            # A created row's creation is its created_by_import; each update is a change.
            history = []
            for planned in plan.updated:
                o = planned.observation
                old = figure_values(o)
                old.update({k: figure_text(v) for k, (v, _new) in planned.changes.items()})
                history.append(
                    ObservationChange(
                        observation=o,
                        label=str(o)[:255],
                        action=ObservationChange.Action.UPDATED,
                        via=ObservationChange.Via.IMPORT,
                        old=old,
                        new=figure_values(o),
                        user=_user(user),
                        at=now,
                        import_record=record,
                    )
                )
            ObservationChange.objects.bulk_create(history, batch_size=2000)
            written = {p.key[:5] for p in (*plan.new, *plan.updated)}
            refresh_current(written)
            announce_figures_changed({key[0] for key in written})
    except IntegrityError:  # another import created one of these rows meanwhile
        raise StaleImport(_changed_since(plan)) from None
    except OperationalError as e:
        if "locked" in str(e).lower() or "busy" in str(e).lower():
            raise DatabaseBusy from None
        raise
    return written


def record_import(name, content, outcome, user=None, record=None):
    """Create or update the ImportRecord of an import or a preview from its outcome."""
    if record is None:
        record = outcome.record or ImportRecord(
            file_name=name[:255],
            file_format=name.rsplit(".", 1)[-1].lower()[:8],
            content=content,
            user=_user(user),
        )
    record.counts = dict(
        outcome.counts,
        errors=outcome.errors[:MAX_STORED_MESSAGES],
        errors_total=len(outcome.errors),
        warnings=outcome.warnings[:MAX_STORED_MESSAGES],
        warnings_total=len(outcome.warnings),
        new_rows=outcome.new_rows,
        unchanged_rows=outcome.unchanged_rows,
    )
    record.changes = outcome.changes
    record.digest = outcome.digest
    Status = ImportRecord.Status
    if outcome.errors:
        record.status = Status.REJECTED
    elif outcome.stale:
        record.status = Status.PREVIEWED
        record.message = _naming(
            "The figures changed since this preview was made, so nothing was imported. "
            "Review this new preview, then confirm again. Changed",
            outcome.stale,
        )
    elif outcome.busy:
        record.status = Status.PREVIEWED
        record.message = DatabaseBusy.message
    elif outcome.dry_run:
        record.status = Status.PREVIEWED
    else:
        record.status = Status.IMPORTED
        record.imported_at = timezone.now()
        record.message = ""
    record.save()
    return record


# --- Revert --------------------------------------------------------------------------------


def revert_import(record, user=None):
    """Undo a confirmed import: restore every value it changed and delete the rows it
    created, all or nothing. Refused, naming the figures, when a later import or an edit
    has changed any of them since. Recorded as changes of each figure."""
    now = timezone.now()
    with transaction.atomic():
        record = ImportRecord.objects.select_for_update().get(pk=record.pk)
        if record.status != ImportRecord.Status.IMPORTED:
            raise RevertRefused(
                f"Only an imported file can be reverted ({record.get_status_display()})."
            )
        changes = list(
            record.observation_changes.filter(via=ObservationChange.Via.IMPORT).order_by("pk")
        )
        ids = [c.observation_id for c in changes if c.observation_id]
        observations = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            query = (
                Observation.objects.select_for_update(of=("self",))
                .filter(pk__in=chunk)
                .for_display()
            )
            observations.update({o.pk: o for o in query})
        created = list(
            Observation.objects.select_for_update(of=("self",))
            .filter(created_by_import=record)
            .for_display()
        )
        # Every later change of these figures (an import, an edit, a restore) is recorded
        # after this import's own changes.
        last = changes[-1].pk if changes else 0
        touched = [*ids, *(o.pk for o in created)]
        later = set()
        for start in range(0, len(touched), 5000):
            later.update(
                ObservationChange.objects.filter(
                    observation_id__in=touched[start : start + 5000], pk__gt=last
                ).values_list("observation_id", flat=True)
            )
        conflicts = []
        for change in changes:
            o = observations.get(change.observation_id)
            if o is None:
                conflicts.append(f"{change.label} (deleted since)")
            elif o.pk in later or figure_values(o) != change.new:
                conflicts.append(str(o))
        conflicts += [str(o) for o in created if o.pk in later]
        missing = (record.counts or {}).get("new", len(created)) - len(created)
        if missing > 0:
            conflicts.append(f"{missing:,} of the rows it created (deleted since)")
        if conflicts:
            raise RevertRefused(
                _naming(
                    "Not reverted, nothing was changed: a later import or edit changed",
                    conflicts,
                )
                + " Revert the later change first, or correct these figures by hand."
            )
        history, restored, deleted = [], [], created
        for o in created:
            history.append(
                ObservationChange(
                    observation=None,
                    label=str(o)[:255],
                    action=ObservationChange.Action.DELETED,
                    via=ObservationChange.Via.REVERT,
                    old=figure_values(o),
                    user=_user(user),
                    at=now,
                    import_record=record,
                )
            )
        for change in changes:
            o = observations[change.observation_id]
            for name in FIGURE_FIELDS:
                setattr(o, name, _field_value(name, change.old.get(name, "")))
            o.updated_at = now
            restored.append(o)
            history.append(
                ObservationChange(
                    observation=o,
                    label=change.label,
                    action=ObservationChange.Action.UPDATED,
                    via=ObservationChange.Via.REVERT,
                    old=change.new,
                    new=change.old,
                    user=_user(user),
                    at=now,
                    import_record=record,
                )
            )
        keys = {o.key for o in [*restored, *deleted]}
        Observation.objects.bulk_update(restored, [*FIGURE_FIELDS, "updated_at"], batch_size=1000)
        deleted_ids = [o.pk for o in deleted]
        for start in range(0, len(deleted_ids), 5000):
            Observation.objects.filter(pk__in=deleted_ids[start : start + 5000]).delete()
        ObservationChange.objects.bulk_create(history, batch_size=2000)
        refresh_current(keys)
        record.status = ImportRecord.Status.REVERTED
        record.reverted_at = now
        record.reverted_by = _user(user)
        record.message = (
            f"Reverted: {len(restored):,} values restored, {len(deleted):,} rows removed."
        )
        record.save(update_fields=["status", "reverted_at", "reverted_by", "message"])
        announce_figures_changed({key[0] for key in keys})
    return record


def _field_value(name, text):
    """A figure from the history's exact text."""
    from decimal import Decimal

    if name == "footnote":
        return text or ""
    if text in ("", None):
        return None
    return int(text) if name == "rank" else Decimal(text)


def restore_change(change, user=None, before=True):
    """Set a figure back to its values before (or after) one change of its history."""
    values = change.old if before else change.new
    if not values or change.observation_id is None:
        raise RevertRefused("That change has no earlier value to restore.")
    with transaction.atomic():
        o = (
            Observation.objects.select_for_update(of=("self",))
            .for_display()
            .get(pk=change.observation_id)
        )
        old = figure_values(o)
        for name in FIGURE_FIELDS:
            setattr(o, name, _field_value(name, values.get(name, "")))
        if figure_values(o) == old:
            return o
        o.full_clean()
        o.save()
        ObservationChange.objects.create(
            observation=o,
            label=str(o)[:255],
            action=ObservationChange.Action.UPDATED,
            via=ObservationChange.Via.RESTORE,
            old=old,
            new=figure_values(o),
            user=_user(user),
        )
        refresh_current({o.key})
    return o


def record_edit(observation, old, user=None, action=ObservationChange.Action.UPDATED):
    """Record a change made by hand in the admin (old: figure_values before, or None)."""
    new = figure_values(observation) if action != ObservationChange.Action.DELETED else None
    if old == new:
        return None
    return ObservationChange.objects.create(
        observation=observation if action != ObservationChange.Action.DELETED else None,
        label=str(observation)[:255],
        action=action,
        via=ObservationChange.Via.EDIT,
        old=old,
        new=new,
        user=_user(user),
    )
