"""Lists that editors keep: statutes, organizations, publications, funding, campaigns, hotlines.

Each is a snippet with drafts, revisions, previews and search, so a change can be reviewed
before it is live and every earlier version is kept.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Page,
    PreviewableMixin,
    RevisionMixin,
    TranslatableMixin,
)
from wagtail.search import index

from resources.forms import ResourceSnippetForm
from resources.synchronized import SynchronizedFieldsMixin, default_language_code


def active_language():
    return get_supported_content_language_variant(get_language() or settings.LANGUAGE_CODE)


default_language = default_language_code


def localized(obj):
    """A snippet or page in the active language: Wagtail's `localized` (its live translation,
    or itself when it has none).

    In the default language the object is returned as it is, with no query (Wagtail's would
    look up the active Locale): what the site settings and the English pages choose is English.
    """
    return localized_all([obj])[0]


def in_active_language(queryset):
    """The items in the active language, and the default language's items that have no
    translation into it (an untranslated law still belongs on the Spanish Laws page).
    Filtered by language code through a join: no query for the Locale rows."""
    active, default = active_language(), default_language()
    if active == default:
        return queryset.filter(locale__language_code=default)
    translated = queryset.filter(locale__language_code=active).values("translation_key")
    # Whether an item is published is a fact of the default language's item: a translation
    # is not shown once its source is withdrawn.
    withdrawn = queryset.model.objects.filter(locale__language_code=default, live=False)
    return queryset.filter(
        Q(locale__language_code=active)
        & ~Q(translation_key__in=withdrawn.values("translation_key"))
        | Q(locale__language_code=default) & ~Q(translation_key__in=translated)
    )


def localized_all(objects):
    """Each object (snippets, or pages) in the active language: its live translation, or
    itself. One query for them all; none in the default language."""
    objects = list(objects)
    present = [obj for obj in objects if obj is not None]
    if not present or active_language() == default_language():
        return objects
    model = Page if isinstance(present[0], Page) else type(present[0])
    translations = {
        t.translation_key: t
        for t in model._default_manager.filter(
            translation_key__in={obj.translation_key for obj in present},
            locale__language_code=active_language(),
            live=True,
        )
    }
    return [obj and translations.get(obj.translation_key, obj) for obj in objects]


def localized_by_pk(model, pks):
    """{pk: the object in the active language} for the objects of `model` with these keys: its
    live translation, or the object itself. One query, in every language alike."""
    pks = [pk for pk in pks if pk is not None]
    if not pks:
        return {}
    chosen = model._default_manager.filter(pk__in=pks)
    rows = model._default_manager.filter(
        Q(pk__in=pks)
        | Q(
            translation_key__in=chosen.values("translation_key"),
            locale__language_code=active_language(),
            live=True,
        )
    ).select_related("locale")
    originals = {row.pk: row for row in rows if row.pk in pks}
    translated = {
        row.translation_key: row for row in rows if row.locale.language_code == active_language()
    }
    # Whether it is published is the original's fact: a withdrawn original stays withdrawn.
    return {
        pk: translated.get(obj.translation_key, obj) if obj.live else obj
        for pk, obj in originals.items()
    }


class ResourceQuerySet(models.QuerySet):
    def for_site(self, site):
        """The published items of one site (one state) in the page's language, in the
        editors' order."""
        return in_active_language(self.filter(live=True, site=site))


class ResourceSnippet(
    SynchronizedFieldsMixin,
    TranslatableMixin,
    DraftStateMixin,
    LockableMixin,
    RevisionMixin,
    PreviewableMixin,
    index.Indexed,
    models.Model,
):
    """What every editor-kept list item shares: the site (state) it belongs to, ordering."""

    site = models.ForeignKey(
        "wagtailcore.Site",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="state site",
        help_text="The state's site that lists this item.",
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = ResourceQuerySet.as_manager()
    base_form_class = ResourceSnippetForm
    # Facts, one value for every language (see resources/synchronized.py); the rest is words.
    synchronized_fields = ("site", "sort_order")

    class Meta(TranslatableMixin.Meta):
        abstract = True

    def get_preview_template(self, request, mode_name):
        return "resources/preview.html"

    def get_preview_context(self, request, mode_name):
        return {"object": self, "items": [self]}


class Statute(ResourceSnippet):
    class Category(models.TextChoices):
        SEX_TRAFFICKING = "sex", _("Sex trafficking")
        LABOR_TRAFFICKING = "labor", _("Labor trafficking")
        VICTIM_PROTECTION = "victims", _("Victim protection and services")
        FORFEITURE = "forfeiture", _("Asset forfeiture")
        OTHER = "other", _("Other")

    citation = models.CharField(max_length=60, help_text="The section, e.g. § 566.206.")
    title = models.CharField(max_length=400)
    category = models.CharField(
        max_length=16,
        choices=Category.choices,
        blank=True,
        help_text="Shown to visitors as a heading. Leave empty unless a source or an editor has "
        "established it: statutes without one are listed in their own order.",
    )
    url = models.URLField("link to the official text", blank=True)
    summary = models.TextField(blank=True)

    synchronized_fields = (*ResourceSnippet.synchronized_fields, "citation", "category", "url")

    search_fields = [
        index.SearchField("citation", boost=3),
        index.AutocompleteField("citation"),
        index.SearchField("title", boost=2),
        index.AutocompleteField("title"),
        index.SearchField("summary"),
        index.FilterField("category"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["category", "sort_order", "citation"]

    def __str__(self):
        return f"{self.citation} {self.title}"


class Organization(ResourceSnippet):
    class Kind(models.TextChoices):
        COALITION = "coalition", _("Coalition")
        TASK_FORCE = "task_force", _("Task force")
        WORKING_GROUP = "working_group", _("Working group")
        NETWORK = "network", _("Network")
        SERVICE_PROVIDER = "service_provider", _("Service provider")
        PROJECT = "project", _("Project")
        CAMPAIGN_GROUP = "campaign_group", _("Campaign group")

    name = models.CharField(max_length=255)
    kind = models.CharField(
        max_length=24,
        choices=Kind.choices,
        blank=True,
        help_text="Shown to visitors. Leave empty unless a source or an editor has established it.",
    )
    url = models.URLField("website", blank=True, help_text="Leave empty rather than guess.")
    description = models.TextField(blank=True)

    synchronized_fields = (*ResourceSnippet.synchronized_fields, "kind", "url")

    search_fields = [
        index.SearchField("name", boost=2),
        index.AutocompleteField("name"),
        index.SearchField("description"),
        index.FilterField("kind"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class Publication(ResourceSnippet):
    class Kind(models.TextChoices):
        RESEARCH = "research", _("Research")
        MANUAL = "manual", _("Manual")
        TRAINING = "training", _("Training")
        REPORT = "report", _("Report")

    title = models.CharField(max_length=400)
    kind = models.CharField(
        max_length=16,
        choices=Kind.choices,
        blank=True,
        help_text="Shown to visitors. Leave empty unless a source or an editor has established it.",
    )
    url = models.URLField(blank=True, help_text="Leave empty rather than guess.")
    description = models.TextField(blank=True)

    synchronized_fields = (*ResourceSnippet.synchronized_fields, "kind", "url")

    search_fields = [
        index.SearchField("title", boost=2),
        index.AutocompleteField("title"),
        index.SearchField("description"),
        index.FilterField("kind"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["sort_order", "title"]

    def __str__(self):
        return self.title


class FundingOpportunity(ResourceSnippet):
    name = models.CharField(max_length=255)
    funder = models.CharField(max_length=255, blank=True)
    url = models.URLField(blank=True, help_text="Leave empty rather than guess.")
    description = models.TextField(blank=True)

    synchronized_fields = (*ResourceSnippet.synchronized_fields, "url")

    search_fields = [
        index.SearchField("name", boost=2),
        index.AutocompleteField("name"),
        index.SearchField("description"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["sort_order", "name"]
        verbose_name_plural = "funding opportunities"

    def __str__(self):
        return self.name


class Campaign(ResourceSnippet):
    name = models.CharField(max_length=255)
    url = models.URLField(blank=True, help_text="Leave empty rather than guess.")
    description = models.TextField(blank=True)

    synchronized_fields = (*ResourceSnippet.synchronized_fields, "url")

    search_fields = [
        index.SearchField("name", boost=2),
        index.AutocompleteField("name"),
        index.SearchField("description"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class CheckedSource(models.Model):
    """Where facts a person in danger relies on come from, and who last checked them, when.

    Shown to visitors beside the facts; empty check fields read as "not yet checked"."""

    source_name = models.CharField(
        "source of these details",
        max_length=255,
        blank=True,
        help_text="Where the details above are published, preferably by the service itself "
        "(its own website or materials). Shown to visitors beside the details.",
    )
    source_url = models.URLField(
        "source link",
        blank=True,
        help_text="The address of that page. Leave empty rather than guess.",
    )
    checked_on = models.DateField(
        "checked on",
        null=True,
        blank=True,
        help_text="The day an editor last checked every detail above against the source. "
        "Visitors see it; empty reads as not yet checked.",
    )
    checked_by = models.CharField(
        "checked by",
        max_length=120,
        blank=True,
        help_text="Who checked them (a name or a role), kept with the date. Empty until checked.",
    )

    # Facts, the same in every language (synchronized from the default language's item).
    FACTS = ("source_name", "source_url", "checked_on", "checked_by")

    class Meta:
        abstract = True


def dial(number):
    return "".join(ch for ch in number if ch.isdigit() or ch == "+")


class SafetyGuidance(CheckedSource, ResourceSnippet):
    """What to do in immediate danger, shown first wherever the site offers help."""

    synchronized_fields = (
        *ResourceSnippet.synchronized_fields,
        "emergency_number",
        *CheckedSource.FACTS,
    )

    text = models.TextField(
        help_text="One or two sentences, e.g. If you are in immediate danger, call 911."
    )
    emergency_number = models.CharField(
        max_length=16,
        blank=True,
        help_text="The number the text asks visitors to call, e.g. 911: shown as a call link.",
    )

    search_fields = [
        index.SearchField("text"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["sort_order", "pk"]
        verbose_name = "safety guidance"
        verbose_name_plural = "safety guidance"

    def __str__(self):
        return self.text[:80]

    @property
    def tel_link(self):
        return f"tel:{dial(self.emergency_number)}" if self.emergency_number else ""


class Hotline(CheckedSource, ResourceSnippet):
    class Scope(models.TextChoices):
        NATIONAL = "national", _("National")
        STATE = "state", _("Statewide")
        LOCAL = "local", _("Local")

    name = models.CharField(max_length=255)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    phone = models.CharField(
        max_length=32, blank=True, help_text="As it should be read, e.g. 1-888-373-7888."
    )
    text_number = models.CharField(
        "text (SMS) number", max_length=32, blank=True, help_text="A short code such as 233733."
    )
    chat_url = models.URLField("chat link", blank=True)
    relay = models.CharField(
        "relay for deaf and hard-of-hearing callers",
        max_length=120,
        blank=True,
        help_text="e.g. 711",
    )
    hours = models.CharField(max_length=120, blank=True, help_text="e.g. 24 hours, 7 days a week")
    languages = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True, help_text="Who it serves and what it is for.")
    confidentiality = models.TextField(
        blank=True, help_text="What the line is and is not: confidentiality, reporting, police."
    )
    synchronized_fields = (
        *ResourceSnippet.synchronized_fields,
        *("scope", "phone", "text_number", "chat_url", "relay"),
        *CheckedSource.FACTS,
    )

    search_fields = [
        index.SearchField("name", boost=2),
        index.AutocompleteField("name"),
        index.SearchField("description"),
        index.FilterField("scope"),
        index.FilterField("site"),
        index.FilterField("live"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    @property
    def tel_link(self):
        if not self.phone:
            return ""
        digits = dial(self.phone)
        if len(digits) == 10:
            digits = "1" + digits
        return f"tel:+{digits.lstrip('+')}" if len(digits) > 6 else f"tel:{digits}"

    @property
    def sms_link(self):
        return f"sms:{dial(self.text_number)}" if self.text_number else ""


# Every list editors keep, in the order the admin's menu and the permissions name them.
SNIPPET_MODELS = (
    Statute,
    Organization,
    Publication,
    FundingOpportunity,
    Campaign,
    Hotline,
    SafetyGuidance,
)
