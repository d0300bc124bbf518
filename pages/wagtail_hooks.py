"""The admin dashboard lists the notes for editors that pages carry (see EditorNoteBlock),
and the admin learns a site's state from its site settings."""

from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.models import Page

from pages.models import SiteSettings


def editor_notes():
    """Each editor note in the body of a page, with its page, in tree order."""
    notes = []
    for page in Page.objects.order_by("path").specific(defer=False):
        body = getattr(page, "body", None)
        # The raw stream: no block is converted, so no chosen figure is looked up.
        for block in body.raw_data if body else ():
            if block.get("type") == "editor_note":
                notes.append({"page": page, "note": block.get("value") or ""})
    return notes


class EditorNotesPanel(Component):
    name = "editor_notes"
    template_name = "pages/admin/editor_notes_panel.html"
    order = 50

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["notes"] = editor_notes()
        return context


@hooks.register("construct_homepage_panels")
def add_editor_notes_panel(request, panels):
    panels.append(EditorNotesPanel())


@hooks.register("site_jurisdiction")
def site_jurisdiction(request):
    """The state a request's site serves (stats' choosers list it first)."""
    return SiteSettings.for_request(request).jurisdiction
