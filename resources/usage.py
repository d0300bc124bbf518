"""A translated snippet's "Used N times": the references to it and to its source.

The site settings name the English hotline; each language's header shows that hotline's
translation, but Wagtail's reference index records the reference to the English object only,
so a Spanish hotline read "Used 0 times" while every Spanish page showed it.
"""

from wagtail.models import Locale, ReferenceIndex
from wagtail.snippets.side_panels import SnippetStatusSidePanel
from wagtail.snippets.views.snippets import EditView, UsageView


def references_to(obj):
    """The references to a snippet, and for a translation those to its default-language source
    too, grouped by the object they are found on."""
    objects = [obj]
    source = obj.get_translation_or_none(Locale.get_default())
    if source is not None and source.pk != obj.pk:
        objects.append(source)
    return ReferenceIndex.get_references_to_in_bulk(objects).group_by_source_object()


class TranslationStatusSidePanel(SnippetStatusSidePanel):
    def get_usage_context(self):
        context = super().get_usage_context()
        if self.object.pk:
            context["usage_count"] = references_to(self.object).count()
        return context


class TranslationEditView(EditView):
    def get_side_panels(self):
        panels = super().get_side_panels()
        for panel in panels:
            if type(panel) is SnippetStatusSidePanel:
                panel.__class__ = TranslationStatusSidePanel  # the same panel, counted so
        return panels


class TranslationUsageView(UsageView):
    def get_queryset(self):
        return references_to(self.object)
