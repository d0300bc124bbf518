"""Figures as they stood at a past moment, rebuilt from the one history.

A row's values at a moment are the old values of its first change after that moment (or its
values now, when nothing changed since); a row created after it (by an import that went live
later, or by hand) did not exist then. Among the rows that existed, the newest edition of
each figure was the current one. A cited page, viewed `?as_of=` the moment it was cited,
shows what the reader saw.
"""

import re
from datetime import datetime, time
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from stats.models import (
    FIGURES,
    ImportRecord,
    Observation,
    ObservationChange,
    ObservationQuerySet,
    newest_edition,
)

DATE_ALONE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KEY = ObservationQuerySet.KEY
# The keys named in one query when rebuilding the figures a past moment changed; beyond it,
# the figures of the whole selection are read (and those not changed left out).
MAX_KEYS_NAMED = 2000
BEFORE_ANY = datetime(1970, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


def parse_moment(text):
    """An aware datetime from `as_of` text: a date (the end of that day, in the site's time
    zone) or an ISO date-time; None when empty or not a date."""
    text = (text or "").strip()[:40]
    if not text:
        return None
    try:
        if DATE_ALONE.match(text):  # fromisoformat would read it as the day's first moment
            day = parse_date(text)
            moment = datetime.combine(day, time.max) if day else None
        else:
            moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def moment_text(moment):
    """The `as_of` text of a moment, in UTC to the microsecond: what a citation links to."""
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def figure_from_text(name, text):
    """A figure from the history's exact text."""
    if name in ("footnote", "footnote_es"):
        return text or ""
    if text in ("", None):
        return None
    return int(text) if name == "rank" else Decimal(text)


def _changes_after(q, moment):
    """{identity: the figure's changes after the moment, oldest first}, for the figures q selects
    (ObservationChange keeps each figure's key and edition, so q filters it as it filters
    observations, and a deleted row's history is still found)."""
    after = {}
    query = (
        ObservationChange.objects.filter(q, at__gt=moment, period_start__isnull=False)
        .select_related("metric", "jurisdiction", "source", "breakdown", "import_record")
        .defer("import_record__content")
        .order_by("at", "pk")
    )
    for change in query:
        after.setdefault(change.identity, []).append(change)
    return after


def _created_after(record, moment):
    return record is not None and (record.imported_at or record.created_at) > moment


def _existed(o, change, moment):
    """Whether a row now in the store existed at the moment."""
    if _created_after(o.created_by_import, moment):
        return False
    return change is None or change.action != ObservationChange.Action.CREATED


def _deleted_since(changes, moment):
    """The row changes after the moment describe, as it stood then, when it is gone now:
    None when it did not exist then (created after it, by hand or by a reverted import)."""
    Action, Via = ObservationChange.Action, ObservationChange.Via
    first = changes[0]
    if first.action == Action.CREATED or not first.old:
        return None
    deletion = next(c for c in changes if c.action == Action.DELETED)
    if deletion.via == Via.REVERT and _created_after(deletion.import_record, moment):
        return None
    return Observation(
        metric=first.metric,
        jurisdiction=first.jurisdiction,
        period_start=first.period_start,
        period_end=first.period_end,
        breakdown=first.breakdown,
        source=first.source,
    )


def _gone_since(after, moment):
    """(row as it stood then, its first change since) of the figures deleted since."""
    gone = []
    for changes in after.values():
        if not any(c.action == ObservationChange.Action.DELETED for c in changes):
            continue
        o = _deleted_since(changes, moment)
        if o is not None and None not in (o.metric, o.jurisdiction, o.source):
            gone.append((o, changes[0]))
    return gone


def figures_as_of(q, moment, history=False):
    """The current observations of the figures q selects as they stood at `moment`: a list
    in key order, each with `.replaced` (the older editions then), like `.current()`; with
    history, every edition that existed then, as `.by_key()` orders them."""
    rows = list(
        Observation.objects.filter(q)
        .for_display()
        .select_related("created_by_import")
        .defer("created_by_import__content")
    )
    after = _changes_after(q, moment)
    then = []
    for o in rows:
        changes = after.pop((*o.key, o.source_id), None)
        if _existed(o, changes[0] if changes else None, moment):
            then.append((o, changes[0] if changes else None))
    then += _gone_since(after, moment)
    by_key = {}
    for o, change in then:
        if change is not None and change.old:
            for name in FIGURES:
                setattr(o, name, figure_from_text(name, change.old.get(name, "")))
        by_key.setdefault(o.key, []).append(o)
    current = _current_of(by_key)
    if not history:
        return current
    return [edition for o in current for edition in (o, *o.replaced)]


def key_order(key):
    """Sort key of a figure's key in the database's own order (a total's empty breakdown is
    last on PostgreSQL, first on SQLite), so figures rebuilt here merge with rows read in
    order and a rebuilt file is the file the store gave then."""
    *head, breakdown = key
    return (*head, (breakdown is None) == connection.features.nulls_order_largest, breakdown or 0)


def _went_live():
    return Coalesce("imported_at", "created_at")  # as _created_after reads a record


def changed_since(moment, q=None):
    """(keys, imports, made): the keys of the figures q selects that some step changed after
    the moment (a recorded change, or a row an import made since), the ids of the imports
    that went live since and how many rows they made. Every other figure stands as it did
    then; the cost grows with the steps since the moment, not with the store."""
    q = q if q is not None else Q()
    changes = ObservationChange.objects.filter(q, at__gt=moment, period_start__isnull=False)
    keys = set(changes.values_list(*KEY))
    made = []
    imports = list(
        ImportRecord.objects.annotate(live=_went_live())
        .filter(live__gt=moment)
        .values_list("pk", flat=True)
    )
    if imports:
        made = list(
            Observation.objects.filter(q, created_by_import_id__in=imports).values_list(*KEY)
        )
        keys.update(made)
    return keys, imports, len(made)


def rebuilt(q, moment, keys, history=False):
    """figures_as_of for just these keys of q (read by their metrics, places and periods)."""
    if not keys:
        return []
    return [o for o in figures_as_of(q & named_keys(keys), moment, history) if o.key in keys]


def named_keys(keys):
    """A Q that holds at least these keys (by their metrics, places and periods), to be
    narrowed to them in Python; for very many keys, everything."""
    if len(keys) > MAX_KEYS_NAMED:
        return Q()
    metrics, places, starts = (sorted({k[i] for k in keys}) for i in range(3))
    return Q(metric_id__in=metrics, jurisdiction_id__in=places, period_start__in=starts)


def settled_moment(moment):
    """The moment of the last step of the history at or before `moment` (the figures stood
    the same at both, so one file serves every moment in between), or None when no step came
    after it (the figures stand as they do now)."""
    records = ImportRecord.objects.annotate(live=_went_live())
    later = ObservationChange.objects.filter(at__gt=moment).exists()
    if not later and not records.filter(live__gt=moment).exists():
        return None
    steps = [
        ObservationChange.objects.filter(at__lte=moment).aggregate(last=Max("at"))["last"],
        records.filter(live__lte=moment).aggregate(last=Max("live"))["last"],
    ]
    return max((s for s in steps if s is not None), default=BEFORE_ANY)


def _current_of(by_key):
    current = []
    for editions in by_key.values():
        editions.sort(
            key=lambda o: newest_edition(
                (o.source.edition_year, o.source.published_on, o.source_id)
            ),
            reverse=True,
        )
        for o in editions:
            o.is_current = o is editions[0]
            o.replaced = []
        editions[0].replaced = editions[1:]
        current.append(editions[0])
    current.sort(key=lambda o: key_order(o.key))
    return current
