"""Invalidate the cached public pages when anything they show changes (see portal.cache).

Connected in PortalConfig.ready(): page publish, unpublish, move and delete; a page's view
restriction (made private or public); every save and delete of a resource snippet, the site
settings and a Site. Each receiver queues one invalidation for when the transaction commits.
Figures are the store's to announce: stats sends `figures_changed` after the commit of every
write path (bulk imports included), and the cache listens.
"""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from portal import cache
from portal.cache import invalidate_on_commit, mark_signed_in, mark_signed_out
from stats.signals import figures_changed

UID = "portal.cache.invalidate"


def connect():
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(invalidate_on_commit, dispatch_uid=UID)
    post_delete.connect(invalidate_on_commit, sender=Page, dispatch_uid=f"{UID}.page")
    # A page made private (or public again): its cached copy must go at once.
    for signal in (post_save, post_delete):
        signal.connect(
            invalidate_on_commit, sender=PageViewRestriction, dispatch_uid=f"{UID}.restriction"
        )
    # The signed marker cookie that lets a signed-in editor past the cache.
    user_logged_in.connect(mark_signed_in, dispatch_uid="portal.cache.signed-in")
    user_logged_out.connect(mark_signed_out, dispatch_uid="portal.cache.signed-out")

    # A site's hostname or default flag: the page cache's keys name the site (portal/cache.py).
    models = [apps.get_model("pages", "SiteSettings"), apps.get_model("wagtailcore", "Site")]
    models += apps.get_app_config("resources").get_models()
    figures_changed.connect(_figures_changed, dispatch_uid=f"{UID}.figures")
    for model in models:
        uid = f"{UID}.{model._meta.label_lower}"
        post_save.connect(invalidate_on_commit, sender=model, dispatch_uid=uid)
        post_delete.connect(invalidate_on_commit, sender=model, dispatch_uid=uid)


def _figures_changed(**kwargs):
    """stats sends this after the commit: invalidate at once."""
    cache.invalidate_public_pages()
