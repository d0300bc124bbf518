"""Invalidate the cached public pages when anything they show changes (see portal.cache).

Connected in PortalConfig.ready(): page publish, unpublish, move and delete; every save and
delete of a statistics model, a resource snippet and the site settings. Each receiver queues one
invalidation for when the transaction commits. Bulk imports that bypass model signals call
`portal.cache.invalidate_public_pages()` themselves.
"""

from django.apps import apps
from django.db.models.signals import post_delete, post_save
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from .cache import invalidate_on_commit

UID = "portal.cache.invalidate"


def connect():
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(invalidate_on_commit, dispatch_uid=UID)
    post_delete.connect(invalidate_on_commit, sender=Page, dispatch_uid=f"{UID}.page")

    models = [apps.get_model("pages", "SiteSettings")]
    models += apps.get_app_config("stats").get_models()
    models += apps.get_app_config("resources").get_models()
    for model in models:
        if model._meta.model_name == "importrecord":  # a preview changes no figure
            continue
        uid = f"{UID}.{model._meta.label_lower}"
        post_save.connect(invalidate_on_commit, sender=model, dispatch_uid=uid)
        post_delete.connect(invalidate_on_commit, sender=model, dispatch_uid=uid)
