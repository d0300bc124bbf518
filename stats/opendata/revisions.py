"""The public record of the figures: the revisions log (every change of a public figure after
it was first published) and the release calendar (scheduled releases, never their values).

Both are derived from the one history (ObservationChange, and the import that created a
row) and the import records; the views that show them per site live in pages/record_views.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from stats.models import (
    ImportRecord,
    Jurisdiction,
    Metric,
    Observation,
    ObservationChange,
    Source,
    attach_replaced,
)

MAX_ENTRIES = 200

KINDS = {
    "new_edition": _("New edition"),
    "revision": _("Revised by the source"),
    "correction": _("Correction by the portal"),
    "withdrawal": _("Withdrawn"),
}


def places_of(jurisdiction):
    """The ids a site's log covers: its state and the places within it (districts); None
    (every place) for a site without a jurisdiction."""
    if jurisdiction is None:
        return None
    within = Jurisdiction.objects.filter(parent=jurisdiction).values_list("pk", flat=True)
    return [jurisdiction.pk, *within]


@dataclass
class Revision:
    at: datetime
    kind: str
    metric: Metric
    jurisdiction: Jurisdiction
    period: str
    old: str
    new: str
    source: Source | None
    reason: str = ""
    through: str = ""  # the import's file, or the portal's edit
    uid: str = ""

    @property
    def kind_label(self):
        return KINDS[self.kind]

    @property
    def figure(self):
        return f"{self.metric.display_label}, {self.jurisdiction.display_name}, {self.period}"


def _scoped(queryset, places, metric, year, figure=None):
    """Narrowed to a site's places, a metric, a year, and one figure's place and breakdown
    (figure: {"place": code, "breakdown": slug, or "total"}), as a "revised" mark links it."""
    if places is not None:
        queryset = queryset.filter(jurisdiction_id__in=places)
    if metric:
        queryset = queryset.filter(metric__slug=metric)
    if year:
        queryset = queryset.filter(period_end__year=year)
    figure = figure or {}
    if figure.get("place"):
        queryset = queryset.filter(jurisdiction__code=figure["place"])
    breakdown = figure.get("breakdown")
    if breakdown == "total":
        queryset = queryset.filter(breakdown__isnull=True)
    elif breakdown:
        queryset = queryset.filter(breakdown__slug=breakdown)
    return queryset


def _changes(places, metric, year, limit, figure=None):
    """Changes of public figures: of a current row, or the withdrawal of one."""
    query = ObservationChange.objects.filter(
        Q(action=ObservationChange.Action.UPDATED, observation__is_current=True)
        | Q(action=ObservationChange.Action.DELETED),
        metric__isnull=False,
        jurisdiction__isnull=False,
    )
    query = _scoped(query, places, metric, year, figure).select_related(
        "metric", "jurisdiction", "source", "import_record", "observation"
    )
    for change in query.order_by("-at", "-pk")[:limit]:
        o = change.observation
        yield Revision(
            at=change.at,
            kind=change.kind,
            metric=change.metric,
            jurisdiction=change.jurisdiction,
            period=o.period_label if o else str(change.period_end.year),
            old=(change.old or {}).get("value", ""),
            new=(change.new or {}).get("value", ""),
            source=change.source,
            reason=change.reason,
            through=change.import_record.file_name if change.import_record else "",
            uid=f"change-{change.pk}",
        )


def _new_editions(places, metric, year, limit, figure=None):
    """Values of a new edition that replaced a published one (the import that created it)."""
    # A total has no breakdown: compare "none" as 0, as SQL's NULL = NULL is not true.
    older = Observation.objects.annotate(category=Coalesce("breakdown_id", Value(0))).filter(
        is_current=False,
        metric_id=OuterRef("metric_id"),
        jurisdiction_id=OuterRef("jurisdiction_id"),
        period_start=OuterRef("period_start"),
        period_end=OuterRef("period_end"),
        category=Coalesce(OuterRef("breakdown_id"), Value(0)),
    )
    query = Observation.objects.filter(
        Exists(older), is_current=True, created_by_import__status=ImportRecord.Status.IMPORTED
    )
    query = _scoped(query, places, metric, year, figure).for_display()
    query = query.select_related("created_by_import")
    rows = attach_replaced(list(query.order_by("-created_by_import__imported_at", "-pk")[:limit]))
    for o in rows:
        record = o.created_by_import
        before = o.replaced[0] if o.replaced else None
        yield Revision(
            at=record.imported_at or record.created_at,
            kind="new_edition",
            metric=o.metric,
            jurisdiction=o.jurisdiction,
            period=o.period_label,
            old=_plain(before.value) if before else "",
            new=_plain(o.value),
            source=o.source,
            reason=record.reason,
            through=record.file_name,
            uid=f"edition-{o.pk}",
        )


def _plain(value):
    return format(value.normalize(), "f") if value is not None else ""


def public_revisions(places=None, metric="", year=None, limit=MAX_ENTRIES, figure=None):
    """The revisions log, newest first: at most `limit` entries (two bounded queries)."""
    entries = [
        *_changes(places, metric, year, limit, figure),
        *_new_editions(places, metric, year, limit, figure),
    ]
    entries.sort(key=lambda r: r.at, reverse=True)
    return entries[:limit]


@dataclass
class Release:
    record: ImportRecord
    when: datetime | None
    status: str  # "scheduled", "released", "cancelled"
    sources: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    places: list = field(default_factory=list)
    events: list = field(default_factory=list)  # the schedule's history: moves, a cancellation


def _contents(record):
    counts = record.counts or {}
    keys = [r["key"] for r in (*counts.get("new_rows", []), *counts.get("replacing_rows", []))]
    keys += [c["key"] for c in record.changes or []]
    return (
        {k["source"] for k in keys},
        {k["metric"] for k in keys},
        {k["jurisdiction"] for k in keys},
    )


def _named_in(contents):
    """({slug: Source}, {slug: Metric}, {code: Jurisdiction}) of what the releases name."""
    slugs = [set().union(set(), *(c[i] for c in contents)) for i in range(3)]
    return (
        {s.slug: s for s in Source.objects.filter(slug__in=slugs[0])},
        {m.slug: m for m in Metric.objects.filter(slug__in=slugs[1])},
        {j.code: j for j in Jurisdiction.objects.filter(code__in=slugs[2])},
    )


def release_calendar(places=None, limit=MAX_ENTRIES):
    """Every release that was announced ahead (scheduled), in time order: what it holds (the
    source editions, metrics and places, never a value) and what happened to its date."""
    records = list(
        ImportRecord.objects.exclude(release_events=[]).defer("content").order_by("-pk")[:limit]
    )
    contents = {r.pk: _contents(r) for r in records}
    sources, metrics, jurisdictions = _named_in(contents.values())
    allowed = None
    if places is not None:
        allowed = set(Jurisdiction.objects.filter(pk__in=places).values_list("code", flat=True))
    releases = []
    for record in records:
        source_slugs, metric_slugs, codes = contents[record.pk]
        if allowed is not None and not codes & allowed:
            continue
        last = record.release_events[-1]
        releases.append(
            Release(
                record=record,
                when=_moment(last.get("go_live_at")),
                status=_release_status(record, last),
                sources=[sources[s] for s in sorted(source_slugs) if s in sources],
                metrics=sorted((metrics[m] for m in metric_slugs if m in metrics), key=str),
                places=sorted((jurisdictions[c] for c in codes if c in jurisdictions), key=str),
                events=[_event(e) for e in record.release_events],
            )
        )
    releases.sort(key=lambda r: (r.when is None, r.when), reverse=True)
    return releases


def _release_status(record, last):
    if last.get("event") == "cancelled":
        return "cancelled"
    if record.status == ImportRecord.Status.IMPORTED:
        return "released"
    if record.status == ImportRecord.Status.REVERTED:
        return "withdrawn"
    return "scheduled"


def _event(event):
    return dict(event, at=_moment(event.get("at")), go_live_at=_moment(event.get("go_live_at")))


def _moment(text):
    return datetime.fromisoformat(text) if text else None
