"""Running an import: check every row, then write in one transaction, and record each change.

The one write path of figures from spreadsheets: the admin's background task, scheduled
releases, `import_stats` and the loading of a state's figures all call run_import. A revert
goes back through the changes an import recorded.
"""

from collections import namedtuple
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
    ObservationQuerySet,
    announce_figures_changed,
    newest_edition,
    refresh_current,
)
from stats.store.history import figure_from_text

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
    replacing_rows: list = field(default_factory=list)  # new rows that replace a public value
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
                **describe(plan.rows.attach(planned.observation)),  # no query per row
                "fields": {
                    k: [figure_text(old), figure_text(new)]
                    for k, (old, new) in planned.changes.items()
                },
            }
        )
    listed = [plan.rows.attach(p.observation) for p in plan.new[:MAX_LISTED]]
    shown_today = replaced_today(listed)
    for planned in plan.new[:MAX_LISTED]:
        values = {k: v for k, v in figure_values(planned.observation).items() if v != ""}
        row = {"row": planned.line, **describe(planned.observation), "values": values}
        today = shown_today.get(planned.observation.key)
        if today is None:
            outcome.new_rows.append(row)
        else:
            before = {k: v for k, v in figure_values(today).items() if v != ""}
            outcome.replacing_rows.append(dict(row, before=before, before_source=today.source_slug))
    outcome.counts["replacing"] = len(outcome.replacing_rows)
    for planned in plan.unchanged[:MAX_LISTED]:
        observation = plan.rows.attach(planned.observation)  # no query per row
        values = {k: v for k, v in figure_values(observation).items() if v != ""}
        outcome.unchanged_rows.append(
            {"row": planned.line, **describe(observation), "values": values}
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


# What visitors see today of a figure a new row replaces: values, not a model instance.
Shown = namedtuple("Shown", [*FIGURE_FIELDS, "source_slug"])
KEYS_PER_QUERY = 500
KEY_LENGTH = len(ObservationQuerySet.KEY)


def replaced_today(observations):
    """{key: Shown} for each new observation (its source attached) whose edition is newer than
    the value visitors see today for its key: importing it replaces that value. One query per
    500 keys, by the sets of their metrics, places and period starts (the key index), with
    exact keys matched here; values only, in no order."""
    keys = {o.key: o for o in observations}
    listed = sorted(keys, key=lambda k: tuple((v is None, v) for v in k))
    found = {}
    for start in range(0, len(listed), KEYS_PER_QUERY):
        batch = listed[start : start + KEYS_PER_QUERY]
        rows = Observation.objects.filter(
            is_current=True,
            metric_id__in={k[0] for k in batch},
            jurisdiction_id__in={k[1] for k in batch},
            period_start__in={k[2] for k in batch},
        ).order_by()
        for row in rows.values_list(
            *ObservationQuerySet.KEY,
            *FIGURE_FIELDS,
            "source__slug",
            "source__edition_year",
            "source__published_on",
            "source_id",
        ):
            key, rest = row[:KEY_LENGTH], row[KEY_LENGTH:]
            shown, edition = rest[: len(Shown._fields)], rest[len(Shown._fields) :]
            new = keys.get(key)
            if new is not None and _edition(new.source) > newest_edition(edition):
                found[key] = Shown(*shown)
    return found


def _edition(source):
    return newest_edition((source.edition_year, source.published_on, source.pk))


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
                # Most new rows are their figure's only or newest edition: created current,
                # refresh_current below writes only the flags that differ (not every new row).
                planned.observation.is_current = True
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
                    ObservationChange.entry(
                        o,
                        ObservationChange.Action.UPDATED,
                        ObservationChange.Via.IMPORT,
                        old=old,
                        new=figure_values(o),
                        user=_user(user),
                        at=now,
                        import_record=record,
                        reason=record.reason,
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
        replacing_rows=outcome.replacing_rows,
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


@dataclass
class RevertPlan:
    """What reverting one import would do, from the net effect of every later step.

    A figure the import changed can be set back when its value now is still the import's
    (later steps changed nothing, or were themselves undone); one it created can be removed
    when its value now is still the one it was created with. A figure whose later steps left
    another value is `blocked`: reverted only together with those steps (with_later)."""

    record: ImportRecord
    restores: list = field(default_factory=list)  # (observation, values to set)
    deletes: list = field(default_factory=list)  # observations it created
    blocked: list = field(default_factory=list)  # (observation, later changes, newest first)
    gone: list = field(default_factory=list)  # names of figures deleted since

    @property
    def keys(self):
        return {o.key for o, _values in self.restores} | {o.key for o in self.deletes}


def _locked(ids):
    found = {}
    for start in range(0, len(ids), 5000):
        query = (
            Observation.objects.select_for_update(of=("self",))
            .filter(pk__in=ids[start : start + 5000])
            .for_display()
        )
        found.update({o.pk: o for o in query})
    return found


def _changes_after(ids, after_pk):
    """{observation id: [its changes recorded after after_pk, newest first]}."""
    later = {}
    for start in range(0, len(ids), 5000):
        query = ObservationChange.objects.filter(
            observation_id__in=ids[start : start + 5000], pk__gt=after_pk
        ).order_by("-pk")
        for change in query.select_related("import_record", "user"):
            later.setdefault(change.observation_id, []).append(change)
    return later


def plan_revert(record):
    """The RevertPlan of an import, reading (and locking) only the figures it wrote."""
    plan = RevertPlan(record)
    changes = list(
        record.observation_changes.filter(via=ObservationChange.Via.IMPORT).order_by("pk")
    )
    observations = _locked([c.observation_id for c in changes if c.observation_id])
    created = list(_locked(list(record.created_observations.values_list("pk", flat=True))).values())
    first = changes[0].pk if changes else 0
    later = _changes_after([*observations, *(o.pk for o in created)], first)
    for change in changes:
        o = observations.get(change.observation_id)
        after = [c for c in later.get(change.observation_id, ()) if c.pk > change.pk]
        if o is None:
            plan.gone.append(f"{change.label} (deleted since)")
        elif figure_values(o) == change.old:
            continue  # already back at its value before the import
        elif figure_values(o) == change.new:
            plan.restores.append((o, change.old))
        else:
            plan.blocked.append((o, after))
            plan.restores.append((o, change.old))
    for o in created:
        after = later.get(o.pk, [])
        at_creation = after[-1].old if after else figure_values(o)
        if figure_values(o) != at_creation:
            plan.blocked.append((o, after))
        plan.deletes.append(o)
    missing = (record.counts or {}).get("new", len(created)) - len(created)
    if missing > 0:
        plan.gone.append(f"{missing:,} of the rows it created (deleted since)")
    return plan


def revert_import(record, user=None, with_later=False, reason=""):
    """Undo a confirmed import: restore every value it changed and delete the rows it
    created, all or nothing, each recorded in the figure's history. When later steps left
    some of its figures with other values, refused naming them, unless with_later: then those
    later changes are undone with it (the figures go back to their values before it)."""
    with transaction.atomic():
        record = ImportRecord.objects.select_for_update().get(pk=record.pk)
        if record.status != ImportRecord.Status.IMPORTED:
            raise RevertRefused(
                f"Only an imported file can be reverted ({record.get_status_display()})."
            )
        plan = plan_revert(record)
        if plan.gone:
            raise RevertRefused(
                _naming("Not reverted, nothing was changed: since then were deleted", plan.gone)
                + " Restore or re-import them first."
            )
        if plan.blocked and not with_later:
            raise RevertRefused(
                _naming(
                    "Not reverted, nothing was changed: a later import or edit changed",
                    [str(o) for o, _later in plan.blocked],
                )
                + " Revert it together with the later changes, or restore these figures by hand."
            )
        _apply_revert(plan, user, reason)
    return record


def _apply_revert(plan, user, reason):
    now, record = timezone.now(), plan.record
    Action, Via = ObservationChange.Action, ObservationChange.Via
    done = {"user": _user(user), "at": now, "import_record": record, "reason": reason}
    history = [
        ObservationChange.entry(
            o, Action.DELETED, Via.REVERT, old=figure_values(o), keep=False, **done
        )
        for o in plan.deletes
    ]
    restored = []
    for o, values in plan.restores:
        old = figure_values(o)
        _set_values(o, values)
        o.updated_at = now
        restored.append(o)
        history.append(
            ObservationChange.entry(o, Action.UPDATED, Via.REVERT, old=old, new=values, **done)
        )
    keys = plan.keys
    Observation.objects.bulk_update(restored, [*FIGURE_FIELDS, "updated_at"], batch_size=1000)
    deleted_ids = [o.pk for o in plan.deletes]
    for start in range(0, len(deleted_ids), 5000):
        Observation.objects.filter(pk__in=deleted_ids[start : start + 5000]).delete()
    ObservationChange.objects.bulk_create(history, batch_size=2000)
    refresh_current(keys)
    record.status = ImportRecord.Status.REVERTED
    record.reverted_at = now
    record.reverted_by = _user(user)
    together = f", with {len(plan.blocked):,} later changes" if plan.blocked else ""
    record.message = (
        f"Reverted{together}: {len(restored):,} values restored, "
        f"{len(plan.deletes):,} rows removed."
    )
    record.save(update_fields=["status", "reverted_at", "reverted_by", "message"])
    announce_figures_changed({key[0] for key in keys})


def _set_values(observation, values):
    for name in FIGURE_FIELDS:
        setattr(observation, name, figure_from_text(name, values.get(name, "")))


def history_of(observation):
    """A figure's whole history, newest first, ending with its creation: the recorded
    changes, and for a row an import created, that creation (its values then are the oldest
    change's old values, or its values now)."""
    changes = list(observation.changes.select_related("user", "import_record"))
    created = any(c.action == ObservationChange.Action.CREATED for c in changes)
    record = observation.created_by_import
    if record is not None and not created:
        values = changes[-1].old if changes else figure_values(observation)
        changes.append(
            ObservationChange.entry(
                observation,
                ObservationChange.Action.CREATED,
                ObservationChange.Via.IMPORT,
                new=values,
                user=record.user,
                at=record.imported_at or record.created_at,
                import_record=record,
            )
        )
    return changes


def restore_values(observation, values, user=None, reason=""):
    """Set a figure to earlier values (any entry of its history), recorded as a restore,
    which can itself be undone the same way. Returns the new change, or None when the
    figure already has those values."""
    if not values:
        raise RevertRefused("That change has no earlier value to restore.")
    with transaction.atomic():
        o = Observation.objects.select_for_update(of=("self",)).for_display().get(pk=observation.pk)
        old = figure_values(o)
        _set_values(o, values)
        if figure_values(o) == old:
            return None
        o.full_clean()
        o.save()
        change = ObservationChange.entry(
            o,
            ObservationChange.Action.UPDATED,
            ObservationChange.Via.RESTORE,
            old=old,
            new=figure_values(o),
            user=_user(user),
            reason=reason,
        )
        change.save()
    return change


def restore_change(change, user=None, before=True, reason=""):
    """Set a figure back to its values before (or after) one change of its history."""
    if change.observation_id is None:
        raise RevertRefused("That figure was deleted; it has no value to restore.")
    return restore_values(
        change.observation, change.old if before else change.new, user=user, reason=reason
    )


def record_edit(observation, old, user=None, action=ObservationChange.Action.UPDATED, reason=""):
    """Record a change made by hand in the admin (old: figure_values before, or None)."""
    deleted = action == ObservationChange.Action.DELETED
    new = None if deleted else figure_values(observation)
    if old == new:
        return None
    change = ObservationChange.entry(
        observation,
        action,
        ObservationChange.Via.EDIT,
        old=old,
        new=new,
        keep=not deleted,
        user=_user(user),
        reason=reason,
    )
    change.save()
    return change
