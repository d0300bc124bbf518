"""Facts shared by every translation of a snippet: one value, kept on the default language's item.

A translation holds words only. Its phone, text number, links, codes, order and dates are
copied from the item it translates whenever either is saved, so a published Spanish revision
cannot bring back a number the English has since changed.

Used by the models' `save` and by the migration and command that align copies that drifted
before: no model is imported here, so a migration can pass its historical models.
"""

from django.conf import settings
from django.db import models
from wagtail.coreutils import get_supported_content_language_variant


def fact_attnames(model, names):
    """The column attribute names of the fields `names` ("site" -> "site_id")."""
    return [model._meta.get_field(name).attname for name in names]


def drift(source, translation, attnames):
    """{attribute: (translation's value, source's value)} where the two differ."""
    return {
        name: (getattr(translation, name), getattr(source, name))
        for name in attnames
        if getattr(translation, name) != getattr(source, name)
    }


def align(model, names, default_locale_id):
    """Copy the facts of every default-language item onto its translations, in one UPDATE per
    drifted translation; returns [(translation, {attribute: (old, new)})] for what changed."""
    attnames = fact_attnames(model, names)
    sources = {
        item.translation_key: item
        for item in model._default_manager.filter(locale_id=default_locale_id)
    }
    translations = model._default_manager.exclude(locale_id=default_locale_id).filter(
        translation_key__in=list(sources)
    )
    changed = []
    for translation in translations:
        differences = drift(sources[translation.translation_key], translation, attnames)
        if differences:
            model._default_manager.filter(pk=translation.pk).update(
                **{name: new for name, (_old, new) in differences.items()}
            )
            changed.append((translation, differences))
    return changed


class SynchronizedFieldsMixin(models.Model):
    """`synchronized_fields` name a translatable model's facts (every other field is words)."""

    synchronized_fields = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        names = [n for n in self.synchronized_fields if update_fields is None or n in update_fields]
        attnames = fact_attnames(type(self), names)
        source = self.source_item() if names else self
        if source.pk != self.pk:
            # A translation: its facts are the source's, whatever its form or revision held.
            for name in attnames:
                setattr(self, name, getattr(source, name))
        super().save(*args, **kwargs)
        if names and source.pk == self.pk:
            for translation in self.get_translations():
                if drift(self, translation, attnames):
                    translation.save(update_fields=names)

    def source_item(self):
        """The default language's item this one translates: itself when it is that item, or
        when nothing in the default language has its translation key."""
        default = type(self).objects.filter(
            translation_key=self.translation_key, locale__language_code=default_language_code()
        )
        return next(iter(default), None) or self


def default_language_code():
    return get_supported_content_language_variant(settings.LANGUAGE_CODE)
