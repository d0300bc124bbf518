"""Figures as they stood at a past moment, rebuilt from the one history.

A row's values at a moment are the old values of its first change after that moment (or its
values now, when nothing changed since); a row created after it (by an import that went live
later, or by hand) did not exist then. Among the rows that existed, the newest edition of
each figure was the current one. A cited page, viewed `?as_of=` the moment it was cited,
shows what the reader saw.
"""

from datetime import datetime, time
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from stats.models import Observation, ObservationChange, newest_edition

FIGURES = ("value", "numerator", "denominator", "rank", "footnote")


def parse_moment(text):
    """An aware datetime from `as_of` text: a date (the end of that day, in the site's time
    zone) or an ISO date-time; None when empty or not a date."""
    text = (text or "").strip()[:40]
    if not text:
        return None
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time.max) if day else None
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
    if name == "footnote":
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


def figures_as_of(q, moment):
    """The current observations of the figures q selects as they stood at `moment`: a list
    in key order, each with `.replaced` (the older editions then), like `.current()`."""
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
    for changes in after.values():  # figures deleted since
        if not any(c.action == ObservationChange.Action.DELETED for c in changes):
            continue
        o = _deleted_since(changes, moment)
        if o is not None and None not in (o.metric, o.jurisdiction, o.source):
            then.append((o, changes[0]))
    by_key = {}
    for o, change in then:
        if change is not None and change.old:
            for name in FIGURES:
                setattr(o, name, figure_from_text(name, change.old.get(name, "")))
        by_key.setdefault(o.key, []).append(o)
    return _current_of(by_key)


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
    current.sort(key=lambda o: tuple((v is None, v) for v in o.key))
    return current
