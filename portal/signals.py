"""Invalidate the cached public pages when anything they show changes (see portal.cache), and
purge the HTTP cache in front of exactly the pages that show it (portal.purge).

Connected in PortalConfig.ready(): page publish, unpublish, move and delete; a page's view
restriction (made private or public); every save and delete of a resource snippet, the site
settings and a Site. Each receiver bumps the content version in the change's own transaction
(so it commits or rolls back with the change) and queues the purge for the commit. Figures are
the store's to announce: stats bumps its DataVersion in the writer's transaction and sends
`figures_changed` after the commit of every write path (bulk imports included); the purge
listens.
"""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save
from wagtail.models import Page, PageViewRestriction, ReferenceIndex, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from portal import purge
from portal.cache import invalidate_public_pages, mark_signed_in, mark_signed_out
from stats.signals import figures_changed

UID = "portal.cache.invalidate"
# A page's own save changes what visitors see only through these fields (a revision's save
# touches others: draft title, latest revision).
PAGE_SEEN_FIELDS = {"live", "slug", "url_path", "title", "path", "show_in_menus", "locale"}


def connect():
    for signal in (page_published, page_unpublished):
        signal.connect(page_changed, dispatch_uid=UID)
    post_page_move.connect(site_changed, dispatch_uid=UID)
    post_delete.connect(site_changed, sender=Page, dispatch_uid=f"{UID}.page")
    post_save.connect(page_saved, sender=Page, dispatch_uid=f"{UID}.page-saved")
    # A page made private (or public again): its cached copy must go at once.
    for signal in (post_save, post_delete):
        signal.connect(restriction_changed, sender=PageViewRestriction, dispatch_uid=f"{UID}.r")
    # The signed marker cookie that lets a signed-in editor past the cache.
    user_logged_in.connect(mark_signed_in, dispatch_uid="portal.cache.signed-in")
    user_logged_out.connect(mark_signed_out, dispatch_uid="portal.cache.signed-out")

    site_settings = apps.get_model("pages", "SiteSettings")
    # "Used N times" and the purge see the snippets a site's settings choose.
    ReferenceIndex.register_model(site_settings)
    receivers = {site_settings: settings_changed, Site: all_sites}
    for model in apps.get_app_config("resources").get_models():
        receivers[model] = snippet_changed
    for model, receiver in receivers.items():
        uid = f"{UID}.{model._meta.label_lower}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid)
        post_delete.connect(receiver, sender=model, dispatch_uid=uid)
    figures_changed.connect(figures_changed_receiver, dispatch_uid=f"{UID}.figures")


def _bump_and_purge(collect, *args, structure=False):
    invalidate_public_pages(structure=structure)
    if purge.enabled():
        purge.queue(collect(*args))


def page_changed(instance, **kwargs):
    # A page published or withdrawn changes the tree the sites' menus and URLs are built from.
    _bump_and_purge(purge.page_urls, instance, structure=True)


def page_saved(instance, update_fields=None, raw=False, **kwargs):
    if raw or (update_fields is not None and not PAGE_SEEN_FIELDS & set(update_fields)):
        return
    if instance.live:
        page_changed(instance)


def site_changed(instance, **kwargs):
    """A page moved or deleted: its old address and every link to it, on its whole site."""
    _bump_and_purge(_site_of_page, instance, structure=True)


def _site_of_page(page):
    site = page.get_site()
    return purge.site_urls(site) if site is not None else _every_site()


def restriction_changed(instance, **kwargs):
    # Which pages are public is the page tree's: what processes remember of it is dropped too.
    _bump_and_purge(purge.page_urls, instance.page, structure=True)


def snippet_changed(instance, raw=False, **kwargs):
    if not raw:
        _bump_and_purge(purge.snippet_urls, instance)


def settings_changed(instance, raw=False, **kwargs):
    if not raw:
        _bump_and_purge(purge.site_urls, instance.site, structure=True)


def all_sites(instance=None, raw=False, **kwargs):
    if not raw:
        _bump_and_purge(_every_site, structure=True)


def _every_site():
    return set().union(*(purge.site_urls(site) for site in Site.objects.all()))


def figures_changed_receiver(metric_ids=None, **kwargs):
    """stats sends this after the commit (its DataVersion already keys the page cache)."""
    if purge.enabled():
        purge.queue(purge.figure_urls(metric_ids))
