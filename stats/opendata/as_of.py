"""The API's and the downloads' figures as they stood at a past moment (`as_of=`).

Rebuilt from the one history (stats.store.history), as the figure pages and embeds are: the
figures no step touched since the moment are read from the store in order, as the current
ones are; only those some step changed since are rebuilt, and merged in at their places in
the same order. So a page or a file as of a moment costs what the current one does, plus the
steps since that moment.
"""

import heapq
from bisect import bisect_left

from django.db.models import Q

from stats.models import attach_replaced
from stats.opendata.counts import cached_count
from stats.opendata.downloads import FilterError, figure_filter, selected, source_ids_of
from stats.store.history import (
    KEY,
    MAX_KEYS_NAMED,
    changed_since,
    key_order,
    named_keys,
    parse_moment,
    rebuilt,
)

AS_OF_HELP = (
    "The figures as they stood at that moment: a date (2024-05-01, the end of that day) or a "
    "date and time (2024-05-01T14:30, with an offset such as Z or -05:00, or else in the "
    "site's time zone)."
)


def as_of_moment(text):
    """The moment `as_of` names; None when not given; FilterError when it is no moment."""
    text = (text or "").strip()
    if not text:
        return None
    moment = parse_moment(text)
    if moment is None:
        raise FilterError(f'as_of: "{text[:40]}" is not a date or a date and time. {AS_OF_HELP}')
    return moment


class FiguresAsOf:
    """The figures a selection (a Q over the key, source ids, history or not) held at a
    moment: `.total`, `.page(offset, limit, ids_of)` and, iterated, every row in order."""

    def __init__(self, q, source_ids, history, moment):
        self.history = history
        self.keys, imports, made = changed_since(moment, q)
        base = selected(q, source_ids, history)
        if made > MAX_KEYS_NAMED:
            # Many rows an import made since, which did not exist then: left out by the
            # query (a few are left out as the other changed figures are, keeping the query
            # the current one, its plan and its cached count).
            base = base.exclude(created_by_import_id__in=imports)
        self.base = base
        self.rebuilt = rebuilt(q, moment, self.keys, history)
        if source_ids is not None:
            self.rebuilt = [o for o in self.rebuilt if o.source_id in source_ids]
        self._rebuilt_order = [key_order(o.key) for o in self.rebuilt]
        self._changed_now = sorted(key_order(k) for k in self._keys_now())
        self._base_total = None

    @classmethod
    def of(cls, moment, history=False, source=(), scope=None, **filters):
        """From the filters the API and the downloads share (FilterError when one is wrong);
        `scope`: the ids of the places of a state's files."""
        q = figure_filter(**filters)
        if scope is not None:
            q &= Q(jurisdiction_id__in=scope)
        return cls(q, source_ids_of(source), history, moment)

    def _keys_now(self):
        """The keys of the rows the query gives now that are to be rebuilt (one per row)."""
        if not self.keys:
            return []
        rows = self.base.filter(named_keys(self.keys)).order_by().values_list(*KEY)
        return [k for k in rows if k in self.keys]

    @property
    def base_total(self):
        if self._base_total is None:
            self._base_total = cached_count(self.base)
        return self._base_total

    @property
    def total(self):
        return self.base_total - len(self._changed_now) + len(self.rebuilt)

    def exists(self):
        return self.total > 0

    def __iter__(self):
        unchanged = (
            o
            for o in self.base.select_related(None).iterator(chunk_size=2000)
            if o.key not in self.keys
        )
        return heapq.merge(unchanged, self.rebuilt, key=lambda o: key_order(o.key))

    def page(self, offset, limit, ids_of):
        """The rows at [offset, offset + limit) of the figures then. One window of the
        store's rows in order (ids_of(rows, total, start, size) gives its ids, as a current
        page reads them) holds every unchanged row of the page: each row's place then differs
        from its place now by at most the number of rows rebuilt or left out."""
        start = max(offset - len(self.rebuilt), 0)
        size = limit + len(self.rebuilt) + len(self._changed_now)
        ids = ids_of(self.base, self.base_total, start, size) if start < self.base_total else []
        by_id = {o.pk: o for o in self.base.filter(pk__in=ids).order_by()}
        # No step since touched these keys, so what each replaced then is what it replaces now.
        window = attach_replaced([by_id[pk] for pk in ids])
        orders = [key_order(o.key) for o in window]
        placed = []
        for at, (o, order) in enumerate(zip(window, orders, strict=True), start):
            if o.key not in self.keys:
                place = at - bisect_left(self._changed_now, order)
                placed.append((place + bisect_left(self._rebuilt_order, order), o))
        to_the_end = start + len(window) >= self.base_total
        for i, (o, order) in enumerate(zip(self.rebuilt, self._rebuilt_order, strict=True)):
            before = bisect_left(orders, order)  # the window's rows before it
            if (before == 0 and start > 0) or (before == len(window) and not to_the_end):
                continue  # outside the window, so outside the page
            placed.append((i + start + before - bisect_left(self._changed_now, order), o))
        placed.sort(key=lambda item: item[0])
        return [o for place, o in placed if offset <= place < offset + limit]
