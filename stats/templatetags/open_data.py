"""Template tags of the open-data downloads (the data_downloads block)."""

import json

from django import template
from django.db.models import Exists, Max, Min, OuterRef
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from stats.exchange.common import COLUMNS, CONTENT_TYPES, EXPORT_COLUMNS
from stats.models import Jurisdiction, Metric, Observation, Source

register = template.Library()


@register.simple_tag
def download_filter_choices():
    """The choices of the download filter form: two small queries, made once per block. The
    place is typed (a text input; the place chooser lists the places with figures that match,
    from /data/places/), so the page does not grow with the number of places."""
    metrics = Metric.objects.order_by("label").only("slug", "label", "label_es")
    return {
        "metrics": [(m.slug, m.display_label) for m in metrics],
        "sources": [(s.slug, s.citation) for s in Source.objects.all()],
        # The files' columns, as the exporter writes them: the Data page lists them.
        "columns": ", ".join(EXPORT_COLUMNS),
        "import_columns": ", ".join(COLUMNS),
    }


# What a JSON text inside <script> must not hold as it is (as Django's json_script escapes).
SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def dataset_metadata(request, name, description):
    """schema.org Dataset of every figure the portal publishes, for dataset search engines:
    its sources (creators and citations), years, places, downloads and last change."""
    rows = Observation.objects.all()
    span = rows.aggregate(
        first=Min("period_start"), last=Max("period_end"), changed=Max("updated_at")
    )
    if span["first"] is None:
        return None
    sources = list(Source.objects.filter(observations__isnull=False).distinct())
    places = Jurisdiction.objects.filter(
        Exists(Observation.objects.filter(jurisdiction=OuterRef("pk")))
    ).order_by("name")
    formats = {"csv": "text/csv", "xlsx": CONTENT_TYPES["xlsx"], "json": "application/json"}
    return {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": name,
        "description": description,
        "url": request.build_absolute_uri(),
        "isAccessibleForFree": True,
        "temporalCoverage": f"{span['first']:%Y-%m-%d}/{span['last']:%Y-%m-%d}",
        "dateModified": span["changed"].isoformat(),
        "spatialCoverage": [{"@type": "Place", "name": p.name} for p in places],
        "creator": [
            {"@type": "Organization", "name": publisher}
            for publisher in sorted({s.publisher for s in sources})
        ],
        "citation": [s.citation for s in sources],
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": media_type,
                "contentUrl": request.build_absolute_uri(reverse("data_download", args=[fmt])),
            }
            for fmt, media_type in formats.items()
        ],
    }


@register.simple_tag(takes_context=True)
def dataset_json_ld(context, name, description):
    """The Dataset metadata as a JSON-LD script (data, never run: the CSP is not involved)."""
    request = context.get("request")
    data = dataset_metadata(request, name, description) if request is not None else None
    if data is None:
        return ""
    text = json.dumps(data, ensure_ascii=False).translate(SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
