"""What the portal tells machines about its figures: the facts of a scope (its years, places,
metrics, source editions and last change), read once per data version, and the schema.org
`Dataset` a page carries for dataset search engines.

A scope is what a site's full downloads hold (stats/opendata/files.py): "all" on the national
site, or a state's code (the state and the places within it). Its facts are one grouped pass
over the scope's figures, kept in the cache under the data version (every change of figures
bumps it, so a kept copy is never older than the figures); a page that shows figures describes
only the figures it fetched, read from the page's own batch (no query). When the cache does not
answer, the facts are read again: slower, never wrong.
"""

import logging

from django.core.cache import cache
from django.db.models import Max, Min, Q
from django.utils.translation import get_language

from stats.exchange.common import CONTENT_TYPES
from stats.models import (
    DataVersion,
    DownloadFile,
    Jurisdiction,
    Metric,
    Observation,
    Source,
    StateSourceText,
)

logger = logging.getLogger(__name__)
TIMEOUT = 24 * 60 * 60
# The media type of each download, as the files are served (stats/opendata/files.py).
MEDIA_TYPES = {"csv": "text/csv", "xlsx": CONTENT_TYPES["xlsx"], "json": "application/json"}
SOURCE_FACTS = (
    "slug",
    "publisher",
    "title",
    "edition",
    "edition_year",
    "url",
    "license_url",
    "coverage",
)


def download_scope(place):
    """The scope of a site's full downloads: its state's code, or "all"."""
    if place is not None and place.kind == Jurisdiction.Kind.STATE:
        return place.code
    return DownloadFile.NATIONAL


def _guarded(what):
    try:
        return what()
    except Exception:
        logger.warning("Cache unavailable; reading the scope's facts without it.", exc_info=True)
        return None


def scope_facts(scope):
    """The facts of a scope (see collect_facts), kept per data version; None when it holds no
    figure. Two cache lookups at most, whatever the size of the store."""
    key = f"stats:opendata:facts:{DataVersion.current()}:{scope}"
    facts = _guarded(lambda: cache.get(key))
    if facts is None:
        facts = collect_facts(scope)
        _guarded(lambda: cache.set(key, facts, TIMEOUT))
    return facts or None


def _scope_places(scope):
    if scope == DownloadFile.NATIONAL:
        return None
    return list(
        Jurisdiction.objects.filter(Q(code=scope) | Q(parent__code=scope)).values_list(
            "pk", flat=True
        )
    )


def collect_facts(scope):
    """{first, last, changed, places, metrics, sources} of every figure of the scope (every
    edition's, as the full history holds them): one grouped query over its figures, then the
    few places, metrics and editions they name. {} when the scope holds no figure."""
    rows = Observation.objects.order_by()
    place_ids = _scope_places(scope)
    if place_ids is not None:
        rows = rows.filter(jurisdiction_id__in=place_ids)
    groups = list(
        rows.values("source_id", "jurisdiction_id", "metric_id").annotate(
            first=Min("period_start"), last=Max("period_end"), changed=Max("updated_at")
        )
    )
    if not groups:
        return {}
    by_source = {}
    for group in groups:
        by_source.setdefault(group["source_id"], []).append(group)
    state = Jurisdiction.objects.filter(code=scope, kind=Jurisdiction.Kind.STATE).first()
    words = {}
    if state is not None:
        words = {t.source_id: t for t in StateSourceText.objects.filter(jurisdiction=state)}
    sources = [
        _source_facts(source.for_state(words.get(source.pk)), by_source[source.pk])
        for source in Source.objects.filter(pk__in=by_source)
    ]
    return _summary(
        groups,
        Jurisdiction.objects.filter(pk__in={g["jurisdiction_id"] for g in groups}),
        Metric.objects.filter(pk__in={g["metric_id"] for g in groups}),
        sources,
    )


def _source_facts(source, groups):
    facts = {name: getattr(source, name) for name in SOURCE_FACTS}
    facts["citation"] = source.citation
    for name in ("published_on", "data_as_of"):
        value = getattr(source, name)
        facts[name] = value.isoformat() if value else None
    facts["first"] = min(g["first"] for g in groups).isoformat()
    facts["last"] = max(g["last"] for g in groups).isoformat()
    facts["changed"] = max(g["changed"] for g in groups).isoformat()
    facts["jurisdiction_ids"] = sorted({g["jurisdiction_id"] for g in groups})
    return facts


def _summary(groups, places, metrics, sources):
    return {
        "first": min(g["first"] for g in groups).isoformat(),
        "last": max(g["last"] for g in groups).isoformat(),
        "changed": max(g["changed"] for g in groups).isoformat(),
        "places": sorted(
            ({"id": p.pk, "code": p.code, "name": p.name, "name_es": p.name_es} for p in places),
            key=lambda p: p["name"],
        ),
        "metrics": sorted(
            ({"slug": m.slug, "label": m.label, "label_es": m.label_es} for m in metrics),
            key=lambda m: m["label"],
        ),
        "sources": sorted(sources, key=lambda s: (-s["edition_year"], s["publisher"], s["slug"])),
    }


def facts_of(observations):
    """The same facts of figures already fetched (a page's batch): no query."""
    groups, sources, places, metrics = [], {}, {}, {}
    for o in observations:
        groups.append(
            {
                "first": o.period_start,
                "last": o.period_end,
                "changed": o.updated_at,
                "source_id": o.source_id,
                "jurisdiction_id": o.jurisdiction_id,
            }
        )
        sources.setdefault(o.source_id, (o.source, []))[1].append(groups[-1])
        places[o.jurisdiction_id] = o.jurisdiction
        metrics[o.metric_id] = o.metric
    if not groups:
        return {}
    return _summary(
        groups,
        places.values(),
        metrics.values(),
        [_source_facts(source, found) for source, found in sources.values()],
    )


def in_language(item, field):
    """An item's word in the active language (its `_es` twin on Spanish pages, when given)."""
    language = (get_language() or "en").split("-")[0]
    return item.get(f"{field}_{language}") or item[field]


def shared_license(facts):
    """The licence every edition of the facts states, when they all state the same one; None
    otherwise (nothing is assumed for an edition that states none)."""
    licenses = {s["license_url"] for s in facts["sources"]}
    return licenses.pop() if len(licenses) == 1 and "" not in licenses else None


def schema_dataset(facts, name, description, url, distribution):
    """schema.org `Dataset` of these facts, in the active language. `distribution` is a list
    of (media type, absolute URL)."""
    data = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": name,
        "description": description,
        "url": url,
        "inLanguage": (get_language() or "en").split("-")[0],
        "isAccessibleForFree": True,
        "temporalCoverage": f"{facts['first']}/{facts['last']}",
        "dateModified": facts["changed"],
        "spatialCoverage": [
            {"@type": "Place", "name": in_language(p, "name")} for p in facts["places"]
        ],
        "variableMeasured": [in_language(m, "label") for m in facts["metrics"]],
        "creator": [
            {"@type": "Organization", "name": publisher}
            for publisher in sorted({s["publisher"] for s in facts["sources"]})
        ],
        "citation": [_cited(s) for s in facts["sources"]],
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": media_type, "contentUrl": link}
            for media_type, link in distribution
        ],
    }
    license_url = shared_license(facts)
    if license_url:
        data["license"] = license_url
    return data


def _cited(source):
    work = {"@type": "CreativeWork", "name": source["citation"]}
    if source["url"]:
        work["url"] = source["url"]
    if source["published_on"]:
        work["datePublished"] = source["published_on"]
    return work
