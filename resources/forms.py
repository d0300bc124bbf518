"""The admin form of the lists' snippets: a translation shows its facts but cannot change them."""

from wagtail.admin.forms import WagtailAdminModelForm

SHARED_HELP = "The same in every language: change it on the English item."


class ResourceSnippetForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk is None or instance.source_item().pk == instance.pk:
            return
        for name in instance.synchronized_fields:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = SHARED_HELP
