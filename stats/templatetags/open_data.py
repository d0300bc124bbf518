"""Template tags of the open-data downloads (the data_downloads block)."""

import json

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from wagtail.models import Site

from stats.display.shaping import download_url
from stats.exchange.common import COLUMNS, EXPORT_COLUMNS
from stats.models import Metric, Source
from stats.opendata.metadata import (
    MEDIA_TYPES,
    download_scope,
    facts_of,
    in_language,
    schema_dataset,
    scope_facts,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def download_filter_choices(context):
    """The choices of the download filter form: two small queries, made once per block. The
    place is typed (a text input; the place chooser lists the places with figures that match,
    from /data/places/), so the page does not grow with the number of places. On a state's
    site the sources are those its figures cite, in its words (as its "Sources" block)."""
    metrics = Metric.objects.order_by("label").only("slug", "label", "label_es")
    store = context.get("figure_store")
    if store is not None and store.state is not None:
        sources = store.all_sources()
    else:
        sources = Source.objects.all()
    return {
        "metrics": [(m.slug, m.display_label) for m in metrics],
        "sources": [(s.slug, s.citation) for s in sources],
        # The files' columns, as the exporter writes them: the Data page lists them.
        "columns": ", ".join(EXPORT_COLUMNS),
        "import_columns": ", ".join(COLUMNS),
    }


# What a JSON text inside <script> must not hold as it is (as Django's json_script escapes).
SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def site_root(context):
    """The serving site's root URL (absolute links are built from it, not from the request's
    Host header)."""
    root = context.get("site_root_url")
    if root:
        return root
    site = Site.find_for_request(context.get("request"))
    return site.root_url if site is not None else ""


def json_ld(data):
    """A JSON-LD script (data, never run: the CSP is not involved)."""
    if not data:
        return ""
    text = json.dumps(data, ensure_ascii=False).translate(SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


def full_downloads(root):
    """(media type, absolute URL) of each full download of the site, and of its data package."""
    links = [(t, root + reverse("data_download", args=[fmt])) for fmt, t in MEDIA_TYPES.items()]
    return links


def dataset_metadata(context, name, description):
    """schema.org Dataset of every figure the site's downloads hold, for dataset search
    engines: its sources (creators and citations), years, places, downloads and last change.
    Read once per data version and scope (metadata.scope_facts)."""
    request = context.get("request")
    if request is None:  # a block rendered outside a page (a preview): no site to describe
        return None
    facts = scope_facts(download_scope(context.get("site_state")))
    if not facts:
        return None
    root = site_root(context)
    url = context.get("page_url") or root + request.path
    return schema_dataset(facts, name, clip(description), url, full_downloads(root))


@register.simple_tag(takes_context=True)
def dataset_json_ld(context, name, description):
    """The Data page's Dataset metadata as a JSON-LD script."""
    return json_ld(dataset_metadata(context, name, description))


# Google's Dataset markup takes a description of 50 to 5,000 characters.
DESCRIPTION_MAX = 5000


def clip(text):
    if len(text) <= DESCRIPTION_MAX:
        return text
    return text[: DESCRIPTION_MAX - 1].rsplit(" ", 1)[0] + "…"


def page_metadata(context):
    """schema.org Dataset of the figures a page shows, from the page's own batch (no query):
    none for a page that draws no figure, shows them as they stood on a past day, or carries
    the Data page's description of every figure (its downloads block)."""
    store, page = context.get("figure_store"), context.get("page")
    if store is None or page is None or store.as_of is not None or store.has_place_chooser:
        return None
    if not store.needs_script:
        return None
    facts = facts_of(store.fetched())
    if not facts:
        return None
    root = site_root(context)
    portal = context.get("portal_name") or ""
    words = {
        "page": page.title,
        "portal": portal,
        "metrics": "; ".join(in_language(m, "label") for m in facts["metrics"]),
        "places": ", ".join(in_language(p, "name") for p in facts["places"]),
        "first": facts["first"][:4],
        "last": facts["last"][:4],
    }
    description = (
        _(
            "The figures shown on the page “%(page)s” of the %(portal)s: %(metrics)s, for "
            "%(places)s, %(first)s to %(last)s. Each figure names the source edition that "
            "published it. The downloads hold these measures for these places in every year and "
            "edition the portal holds."
        )
        % words
    )
    query = {
        "metric": [m["slug"] for m in facts["metrics"]],
        "jurisdiction": [p["code"] for p in facts["places"]],
    }
    links = [(t, root + download_url(fmt, **query)) for fmt, t in MEDIA_TYPES.items()]
    url = context.get("page_url") or root
    return schema_dataset(facts, page.title, clip(description), url, links)


@register.simple_tag(takes_context=True)
def page_dataset_json_ld(context):
    """The figures of a page as a JSON-LD script (after its body is rendered)."""
    return json_ld(page_metadata(context))
