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

from stats.models import (
    NEWEST_EDITION_FIRST,
    ObservationChange,
    ObservationQuerySet,
    newest_edition,
)

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
    """The `as_of` text of a moment, in UTC to the second: what a citation links to."""
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M:%SZ")


def figure_from_text(name, text):
    """A figure from the history's exact text."""
    if name == "footnote":
        return text or ""
    if text in ("", None):
        return None
    return int(text) if name == "rank" else Decimal(text)


def _first_changes_after(ids, moment):
    """{observation id: its first change after the moment}."""
    first = {}
    for start in range(0, len(ids), 5000):
        query = ObservationChange.objects.filter(
            observation_id__in=ids[start : start + 5000], at__gt=moment
        ).order_by("at", "pk")
        for change in query.only("observation_id", "action", "old"):
            first.setdefault(change.observation_id, change)
    return first


def _existed(o, first, moment):
    record = o.created_by_import
    if record is not None and (record.imported_at or record.created_at) > moment:
        return False
    change = first.get(o.pk)
    return change is None or change.action != ObservationChange.Action.CREATED


def figures_as_of(queryset, moment):
    """The current observations of a queryset's figures as they stood at `moment`: a list in
    key order, each with `.replaced` (the older editions then), like `.current()`."""
    rows = list(
        queryset.for_display()
        .select_related("created_by_import")
        .defer("created_by_import__content")
        .order_by(*ObservationQuerySet.KEY, *NEWEST_EDITION_FIRST)
    )
    first = _first_changes_after([o.pk for o in rows], moment)
    by_key = {}
    for o in rows:
        if not _existed(o, first, moment):
            continue
        change = first.get(o.pk)
        if change is not None and change.old:
            for name in FIGURES:
                setattr(o, name, figure_from_text(name, change.old.get(name, "")))
        by_key.setdefault(o.key, []).append(o)
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
    current.sort(key=lambda o: (tuple((v is None, v) for v in o.key), o.pk))
    return current
