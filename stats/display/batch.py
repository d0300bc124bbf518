"""One batched fetch of every figure a page shows, and of the snippets its blocks choose.

Each stats block says which observations it needs (a `Selection`). `FigureStore.for_stream`
collects the selections of every block in a page's body, fetches them all with ONE
`Observation.objects.filter(q).current()` query (and one more for the older editions each
replaced, stats.models.attach_replaced), and each block then takes its share from the store
in memory (`store.observations(selection)`), shaped by stats.display.shaping.
"""

import contextvars
import datetime
import secrets
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q
from wagtail import blocks

from stats.models import (
    Jurisdiction,
    Observation,
    ObservationChange,
    Source,
    StateSourceText,
    attach_replaced,
)
from stats.store.history import figures_as_of

NATIONAL_CODE = "US"
STATE_KIND = "state"  # Jurisdiction.Kind.STATE: states, the District and the territories


@dataclass(frozen=True)
class Selection:
    """The observations one block needs.

    breakdown: True for the categories of a breakdown only, False for totals only.
    from_year / to_year: the period lies within these years. end_year: the period ends in it.
    national: also the nation's figures for the same metrics.
    every_state: every state's figures (a map), whatever jurisdiction_ids holds.
    """

    metric_ids: frozenset
    jurisdiction_ids: frozenset
    breakdown: bool = False
    from_year: int | None = None
    to_year: int | None = None
    end_year: int | None = None
    national: bool = False
    every_state: bool = False

    @classmethod
    def of(cls, metrics, jurisdictions, **kwargs):
        return cls(
            frozenset(m.pk for m in metrics if m is not None),
            frozenset(j.pk for j in jurisdictions if j is not None),
            **kwargs,
        )

    @property
    def is_empty(self):
        return not self.metric_ids or not (self.jurisdiction_ids or self.every_state)

    def q(self, national_ids=(), state_ids=()):
        """The selection as a filter on the observation's own columns (no join), so the
        database reads only these metrics and places from the (metric, jurisdiction) index.
        national_ids: the pk of the nation; state_ids: those of the states (a map's places);
        each looked up once for the page."""
        places = set(self.jurisdiction_ids)
        if self.national:
            places.update(national_ids)
        if self.every_state:  # a map: every state's value
            places.update(state_ids)
        q = Q(metric_id__in=sorted(self.metric_ids)) & Q(jurisdiction_id__in=sorted(places))
        q &= Q(breakdown__isnull=not self.breakdown)
        if self.from_year:
            q &= Q(period_start__gte=datetime.date(self.from_year, 1, 1))
        if self.to_year:
            q &= Q(period_end__lte=datetime.date(self.to_year, 12, 31))
        if self.end_year:
            q &= Q(
                period_end__gte=datetime.date(self.end_year, 1, 1),
                period_end__lte=datetime.date(self.end_year, 12, 31),
            )
        return q

    def matches(self, o):
        if o.metric_id not in self.metric_ids:
            return False
        if (
            o.jurisdiction_id not in self.jurisdiction_ids
            and not (self.national and o.jurisdiction.code == NATIONAL_CODE)
            and not (self.every_state and o.jurisdiction.kind == STATE_KIND)
        ):
            return False
        if (o.breakdown_id is not None) != self.breakdown:
            return False
        if self.from_year and o.period_start.year < self.from_year:
            return False
        if self.to_year and o.period_end.year > self.to_year:
            return False
        if self.end_year and o.period_end.year != self.end_year:
            return False
        return True


# Chosen snippets, batched per page: {model: {pk: instance}} while a page's stream is converted.
_prefetched = contextvars.ContextVar("stats_prefetched_snippets", default=None)


def prefetched_snippets(model):
    batch = _prefetched.get()
    return None if batch is None else batch.get(model)


def _item_value(item):
    # A ListBlock item is stored as {"type": "item", "value": ..., "id": ...} or as a bare value.
    if isinstance(item, dict) and item.get("type") == "item" and "value" in item:
        return item["value"]
    return item


def collect_chosen_ids(block, raw, found):
    """Walk a raw (JSON) block value, noting each id chosen in a batched chooser, by model."""
    if raw is None:
        return
    if getattr(block, "batched", False):
        found[block.model_class].add(raw)
    elif isinstance(block, blocks.StreamBlock):
        for item in raw:
            child = block.child_blocks.get(item.get("type")) if isinstance(item, dict) else None
            if child is not None:
                collect_chosen_ids(child, item.get("value"), found)
    elif isinstance(block, blocks.ListBlock):
        for item in raw:
            collect_chosen_ids(block.child_block, _item_value(item), found)
    elif isinstance(block, blocks.StructBlock) and isinstance(raw, dict):
        for name, child in block.child_blocks.items():
            if name in raw:
                collect_chosen_ids(child, raw[name], found)


@contextmanager
def batched_snippets(stream_value):
    """Fetch every metric, place and source chosen anywhere in the stream: one query a model."""
    found = defaultdict(set)
    try:
        raw = list(stream_value.raw_data)
    except AttributeError:
        raw = []
    collect_chosen_ids(stream_value.stream_block, raw, found)
    batch = {model: model.objects.in_bulk(ids) for model, ids in found.items()}
    token = _prefetched.set(batch)
    try:
        yield
    finally:
        _prefetched.reset(token)


def block_selections(block, value):
    """The selections of one block value (a row of key figures gives several)."""
    method = getattr(block, "figure_selections", None)
    if method is None:
        return []
    return [s for s in method(value) if not s.is_empty]


class FigureStore:
    """Observations for a set of selections, fetched in one query."""

    def __init__(self, selections=(), state=None, as_of=None):
        self.selections = set(selections)
        # The state whose site shows the figures: its sources are cited in its own words.
        self.state = state
        self._words = None
        self.as_of = as_of  # a past moment: the figures as they stood then (stats.store.history)
        self._by_metric = self._index(self._in_state_words(self._fetch(self.selections, as_of)))
        self._own = {}  # selections fetched on their own (a block rendered outside the page)
        self._all_sources = None
        self._ids = defaultdict(int)
        self._id_tag = ""
        self._used_ids = set()
        self._said = defaultdict(set)  # section -> notes already said in it
        self.kinds_drawn = set()  # "chart", "map", "places": which scripts the page needs

    @classmethod
    def for_stream(cls, stream_value, state=None, as_of=None):
        if not stream_value:
            return cls(state=state, as_of=as_of)
        # Converting the stream here, with the chosen snippets batched, keeps their lookups to
        # one query per model whatever the number of blocks; the page reuses the converted values.
        with batched_snippets(stream_value):
            children = list(stream_value)
        selections = []
        for child in children:
            selections.extend(block_selections(child.block, child.value))
        return cls(selections, state=state, as_of=as_of)

    @classmethod
    def for_block(cls, block, value, state=None, as_of=None):
        store = cls(block_selections(block, value), state=state, as_of=as_of)
        # Blocks rendered on their own may sit side by side: keep their element ids apart.
        store._id_tag = f"{secrets.token_hex(3)}-"
        return store

    @staticmethod
    def _fetch(selections, as_of=None):
        if not selections:
            return []
        national_ids = ()
        if any(s.national for s in selections):
            national_ids = list(
                Jurisdiction.objects.filter(code=NATIONAL_CODE).values_list("pk", flat=True)
            )
        state_ids = ()
        if any(s.every_state for s in selections):
            states = Jurisdiction.objects.filter(kind=STATE_KIND)
            state_ids = list(states.values_list("pk", flat=True))
        q = reduce(or_, (s.q(national_ids, state_ids) for s in selections))
        if as_of is not None:
            return figures_as_of(q, as_of)
        # `.revised`: corrected since it was published (the revisions log lists each change).
        corrected = ObservationChange.objects.filter(
            observation=OuterRef("pk"), action=ObservationChange.Action.UPDATED
        )
        return attach_replaced(
            list(Observation.objects.filter(q).current().annotate(revised=Exists(corrected)))
        )

    @staticmethod
    def _index(observations):
        by_metric = defaultdict(list)
        for o in observations:
            by_metric[o.metric_id].append(o)
        return by_metric

    def observations(self, selection):
        """The current observations matching a selection, in a stable order."""
        if selection.is_empty:
            return []
        if selection in self.selections:
            by_metric = self._by_metric
        else:
            if selection not in self._own:
                fetched = self._in_state_words(self._fetch([selection], self.as_of))
                self._own[selection] = self._index(fetched)
            by_metric = self._own[selection]
        return [
            o
            for metric_id in sorted(selection.metric_ids)
            for o in by_metric.get(metric_id, ())
            if selection.matches(o)
        ]

    def fetched(self):
        """Every observation the page's batch fetched (what its blocks may show)."""
        return [o for found in self._by_metric.values() for o in found]

    def next_id(self, prefix):
        """A page-unique element id: chart-1, chart-2..."""
        self._ids[prefix] += 1
        return self.unique_id(f"{prefix}-{self._id_tag}{self._ids[prefix]}")

    def unique_id(self, wanted):
        """`wanted`, or `wanted-2`... when the page already has an element of that id."""
        candidate, n = wanted, 1
        while candidate in self._used_ids:
            n += 1
            candidate = f"{wanted}-{n}"
        self._used_ids.add(candidate)
        return candidate

    def unsaid(self, section, notes):
        """The notes not yet said in this section of the page; they count as said from now.

        A note several figures of a section share (a caveat, an exclusion) is said once, by
        the first of them. A block rendered on its own (an embed) has a store of its own, so it
        always carries its notes.
        """
        said = self._said[section]
        fresh = [n for n in dict.fromkeys(notes) if n and n not in said]
        said.update(fresh)
        return fresh

    def drawn(self, kind):
        """Record that the page shows a "chart", "map" or "figure" (its copy buttons), so the
        page's template loads static/js/charts.js, and Chart.js only for a chart (a map is
        drawn by the server as SVG; the script adds its tooltip)."""
        self.kinds_drawn.add(kind)

    @property
    def needs_script(self):
        return bool(self.kinds_drawn - {"places"})

    @property
    def has_place_chooser(self):
        """A download form: the page loads static/js/place-chooser.js."""
        return "places" in self.kinds_drawn

    @property
    def has_charts(self):
        return "chart" in self.kinds_drawn

    @property
    def has_map(self):
        return "map" in self.kinds_drawn

    def all_sources(self):
        """Every source edition the state's figures cite (every one in the store when no state
        is given), in the state's words: made once, only when asked."""
        if self._all_sources is None:
            sources = Source.objects.all()
            if self.state is not None:
                sources = sources.filter(
                    Exists(
                        Observation.objects.filter(source=OuterRef("pk"), jurisdiction=self.state)
                    )
                )
            self._all_sources = self.sources_in_state_words(sources)
        return self._all_sources

    def sources_in_state_words(self, sources):
        """Sources (an editor's choice, say) as the state's site cites them: in its words."""
        sources = list(sources)
        words = self._state_words([s.pk for s in sources])
        return [s.for_state(words.get(s.pk)) for s in sources]

    def _state_words(self, source_ids):
        """{source id: StateSourceText} for the state: one query, only when there is a state."""
        if self.state is None or not source_ids:
            return {}
        if self._words is None:
            self._words = {}
        missing = set(source_ids) - set(self._words)
        if missing:
            found = {
                t.source_id: t
                for t in StateSourceText.objects.filter(
                    jurisdiction=self.state, source_id__in=sorted(missing)
                )
            }
            self._words.update({pk: found.get(pk) for pk in missing})
        return self._words

    def _in_state_words(self, observations):
        """The observations with their sources in the state's words, and so the older
        editions' values beside them (`.replaced`): a key figure of one report cites one."""
        observations = list(observations)
        every = [*observations, *(r for o in observations for r in getattr(o, "replaced", ()))]
        words = self._state_words({o.source_id for o in every})
        if any(words.values()):
            cited = {}
            for o in every:
                if words.get(o.source_id) is not None:
                    if o.source_id not in cited:
                        cited[o.source_id] = o.source.for_state(words[o.source_id])
                    o.source = cited[o.source_id]
        return observations
