"""Purging the HTTP cache in front (Varnish, deploy/varnish/portal.vcl) of exactly the pages
that show what changed, through Wagtail's frontend cache (settings.WAGTAILFRONTENDCACHE).

Which pages show what:
- a page: itself in every language, its embeds and figure CSVs, its parent (which may list
  it) and the pages that link to it (Wagtail's ReferenceIndex); a page in the site's menu, a
  home page, a move or a delete: every page of its site (the menu and links are on all);
- a snippet: the pages that choose it (ReferenceIndex) and the pages whose lists show every
  item of its kind; chosen by a site's settings (a hotline in the header): every page of that
  site;
- site settings: every page of their site; a Site: every page of every site;
- figures (stats' `figures_changed`, with the metrics it touched): the pages whose blocks
  choose one of those metrics (ReferenceIndex), else every page.
Search results and the sitemap of the sites concerned are purged with them.

A purge of a URL ending in `*` is a prefix: the VCL bans every object of that host whose path
starts with it. URLs are collected while the change is made and sent once its transaction
commits (a purge before the commit could let Varnish fetch the old page again), directly, not
through the task worker, so a stopped worker cannot leave a withdrawn page in Varnish. Without
WAGTAILFRONTENDCACHE nothing is collected or sent.
"""

import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import override
from wagtail.contrib.frontend_cache.tasks import purge_urls_from_cache_task
from wagtail.models import Page, ReferenceIndex, Site, get_page_models

from pages.blocks import ContentStreamBlock
from pages.models import BasePage, SiteSettings
from stats.models import Metric

logger = logging.getLogger(__name__)

PREFIX = "*"  # a purge of URL + PREFIX bans everything under URL (portal.vcl)


def enabled():
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


class _Batch:
    """The URLs one transaction purges, sent once when it commits."""

    def __init__(self):
        self.urls = set()
        self.sent = False

    def __call__(self):
        self.sent = True
        urls = sorted(self.urls)
        try:
            purge_urls_from_cache_task.call(urls)
        except Exception:  # an unreachable cache must not fail the change that committed
            logger.warning("Purging %d URLs from the HTTP cache failed.", len(urls), exc_info=True)


def queue(urls):
    """Purge these URLs when the current transaction commits (at once outside one)."""
    urls = {u for u in urls if u}
    if not urls:
        return
    # Django offers no public way to see what a transaction has queued: one batch per commit.
    queued = [
        f for _sids, f, _robust in connection.run_on_commit if isinstance(f, _Batch) and not f.sent
    ]
    batch = queued[0] if queued else _Batch()
    batch.urls |= urls
    if not queued:
        transaction.on_commit(batch)


def site_urls(site):
    """Everything of one site: every page, embed, CSV, search and sitemap of its host."""
    return {site.root_url + "/" + PREFIX}


def _listings(site):
    """The site's search results (each language) and its sitemap."""
    paths = [reverse("sitemap")]
    for code, _name in settings.LANGUAGES:
        with override(code):
            paths.append(reverse("search") + PREFIX)
    return {site.root_url + path for path in paths}


def page_urls(page):
    """A page in every language, its embeds, CSVs and parent, and the pages linking to it."""
    page = page.specific_deferred
    site = page.get_site()
    if site is None:
        return set()
    if page.depth <= 2 or (page.show_in_menus and page.depth == 3):
        return site_urls(site) | _listings(site)
    urls = _listings(site)
    pages = list(page.get_translations(inclusive=True)) + [page]
    parent = page.get_parent()
    if parent is not None:
        pages.append(parent)
    pages += _pages_referring_to([page])
    for each in pages:
        urls |= _own_urls(each, site)
    return urls


def _own_urls(page, site):
    url = page.get_full_url()
    if url is None:
        return set()
    return {
        url,
        # Every figure of the page: /embed/<page>/<block>/ and /figures/<page>/<block>.csv
        # (portal/urls.py).
        f"{site.root_url}/embed/{page.pk}/{PREFIX}",
        f"{site.root_url}/figures/{page.pk}/{PREFIX}",
    }


def _pages_referring_to(objects):
    """The live pages whose fields choose one of these objects (Wagtail's ReferenceIndex)."""
    pages = []
    for obj in objects:
        for ref in ReferenceIndex.get_references_to(obj):
            source = ref.content_type.model_class()
            if source is not None and issubclass(source, Page):
                pages.append(int(ref.object_id))
    return list(Page.objects.live().filter(pk__in=pages).specific())


def _sites_choosing(objects):
    """The sites whose settings choose one of these objects (a hotline in the header)."""
    ids = []
    for obj in objects:
        for ref in ReferenceIndex.get_references_to(obj):
            if ref.content_type.model_class() is SiteSettings:
                ids.append(int(ref.object_id))
    return Site.objects.filter(sitesettings__pk__in=ids)


def _pages_listing(model):
    """Live pages whose body lists every item of a model (a statutes list...)."""
    names = [
        name
        for name, block in ContentStreamBlock().child_blocks.items()
        if getattr(block, "model", None) is model
    ]
    if not names:
        return []
    found = Q()
    for name in names:
        found |= Q(body__icontains=f'"type": "{name}"') | Q(body__icontains=f'"type":"{name}"')
    pages = []
    for page_model in get_page_models():
        if issubclass(page_model, BasePage):
            pages += list(page_model.objects.live().filter(found))
    return pages


def snippet_urls(obj):
    """The pages that show a snippet: those choosing it, those listing its kind."""
    objects = list(obj.get_translations(inclusive=True)) if hasattr(obj, "locale_id") else [obj]
    objects.append(obj)
    urls = set()
    for site in _sites_choosing(objects):
        urls |= site_urls(site)
    for page in _pages_referring_to(objects) + _pages_listing(type(obj)):
        urls |= page_urls(page)
    return urls


def figure_urls(metric_ids):
    """The pages that show one of these metrics, or every page (None: any figure)."""
    sites = list(Site.objects.all())
    if metric_ids is None:
        return set().union(*(site_urls(site) for site in sites))
    page_ids = ReferenceIndex.objects.filter(
        base_content_type=ContentType.objects.get_for_model(Page),
        to_content_type=ContentType.objects.get_for_model(Metric),
        to_object_id__in=[str(pk) for pk in metric_ids],
    ).values_list("object_id", flat=True)
    urls = set().union(*(_listings(site) for site in sites))
    for page in Page.objects.live().filter(pk__in=[int(i) for i in page_ids]).specific():
        site = page.get_site()
        if site is not None:
            urls |= _own_urls(page, site)
    # The open data (downloads, API) shows every figure.
    for site in sites:
        urls |= {site.root_url + "/data/" + PREFIX, site.root_url + "/api/" + PREFIX}
    return urls
