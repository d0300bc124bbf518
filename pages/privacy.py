"""A page's privacy, and its withdrawal, are facts of the page, not of one of its languages.

Wagtail keeps a view restriction (password, signed-in users, groups) per page, and each
translation is a page of its own: making the English Get help page private left
`/es/obtener-ayuda/` public (wagtail/wagtail#11015; wagtail-localize copies restrictions
only when a translation is synced). Here a restriction set, changed or removed on a page of
the default language is mirrored on every translation of it at once, in the same
transaction, so that no language serves what another withdrew. The copies' own saves and
deletes reach portal.signals like any restriction: the cached copies are dropped and purged.

Likewise a page of the default language unpublished (withdrawn) takes its live translations
with it, in the same transaction: a Spanish page must not keep what the English withdrew
(a hotline, a figure). Publishing it again does not publish them again: each translation is
published by its editor (the out-of-date report lists it).
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.models import Locale, Page, PageViewRestriction
from wagtail.signals import page_unpublished

UID = "pages.privacy.mirror"


def connect():
    for signal in (post_save, post_delete):
        signal.connect(restriction_changed, sender=PageViewRestriction, dispatch_uid=UID)
    m2m_changed.connect(groups_changed, sender=PageViewRestriction.groups.through, dispatch_uid=UID)
    page_unpublished.connect(unpublished, dispatch_uid=UID)


def unpublished(instance, **kwargs):
    """Unpublish the live translations of a default-language page just unpublished (each
    unpublish sends its own signal: caches dropped and purged as for any page)."""
    if instance.locale_id != Locale.get_default().pk:
        return
    for translation in instance.get_translations().live().specific():
        translation.unpublish(user=kwargs.get("user"))


def restriction_changed(instance, raw=False, **kwargs):
    if raw:
        return
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        mirror_restrictions(page)


def groups_changed(instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        restriction_changed(instance)


def mirror_restrictions(page):
    """Give every translation of `page`, a page in the default language, exactly its
    restrictions: the privacy an editor sets on the source page governs every language."""
    if page.locale_id != Locale.get_default().pk:
        return
    sources = list(page.view_restrictions.prefetch_related("groups"))
    for translation in page.get_translations():
        for restriction in PageViewRestriction.objects.filter(page=translation):
            restriction.delete()
        for source in sources:
            copy = PageViewRestriction.objects.create(
                page=translation,
                restriction_type=source.restriction_type,
                password=source.password,
            )
            copy.groups.set(source.groups.all())
