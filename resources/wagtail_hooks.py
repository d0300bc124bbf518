"""The "Resources" menu: the lists editors keep, with filters, search and export."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import LiveStatusTagColumn, LocaleColumn
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from resources.models import (
    Campaign,
    FundingOpportunity,
    Hotline,
    Organization,
    Publication,
    SafetyGuidance,
    Statute,
)
from resources.reports import OutOfDateTranslationsView
from resources.usage import TranslationEditView, TranslationUsageView

STATUS = ["live", "site"]
# Each list's status reads "Live" or "Draft" (Wagtail's tag), not "True".


class StatuteViewSet(SnippetViewSet):
    model = Statute
    icon = "doc-full-inverse"
    menu_label = "Statutes"
    list_display = ["citation", "title", "category", "url", "site", LiveStatusTagColumn()]
    list_filter = ["category", *STATUS]
    list_export = ["citation", "title", "category", "url", "summary", "site", "live"]
    export_filename = "statutes"
    ordering = ["category", "sort_order", "citation"]


class OrganizationViewSet(SnippetViewSet):
    model = Organization
    icon = "group"
    menu_label = "Organizations"
    list_display = ["name", "kind", "url", "site", LiveStatusTagColumn()]
    list_filter = ["kind", *STATUS]
    list_export = ["name", "kind", "url", "description", "site", "live"]
    export_filename = "organizations"


class PublicationViewSet(SnippetViewSet):
    model = Publication
    icon = "doc-empty"
    menu_label = "Publications and trainings"
    list_display = ["title", "kind", "url", "site", LiveStatusTagColumn()]
    list_filter = ["kind", *STATUS]
    list_export = ["title", "kind", "url", "description", "site", "live"]
    export_filename = "publications"


class FundingOpportunityViewSet(SnippetViewSet):
    model = FundingOpportunity
    icon = "tag"
    menu_label = "Funding opportunities"
    list_display = ["name", "funder", "url", "site", LiveStatusTagColumn()]
    list_filter = STATUS
    list_export = ["name", "funder", "url", "description", "site", "live"]
    export_filename = "funding-opportunities"


class CampaignViewSet(SnippetViewSet):
    model = Campaign
    icon = "pick"
    menu_label = "Campaigns"
    list_display = ["name", "url", "site", LiveStatusTagColumn()]
    list_filter = STATUS
    list_export = ["name", "url", "description", "site", "live"]
    export_filename = "campaigns"


class HotlineViewSet(SnippetViewSet):
    model = Hotline
    icon = "mobile-alt"
    menu_label = "Hotlines"
    # Few, short columns, so a name is not wrapped letter by letter; each pack's lines are
    # told apart by language and site; the status reads "Live" or "Draft", not "True".
    list_display = [
        "name", "scope", "phone", "text_number", "checked_on", LocaleColumn(label="Language"),
        "site", LiveStatusTagColumn(),
    ]  # fmt: skip
    list_filter = ["scope", *STATUS]
    list_export = [
        "name", "scope", "phone", "text_number", "chat_url", "relay", "hours", "languages",
        "description", "confidentiality", "source_name", "source_url", "checked_on",
        "checked_by", "site", "locale", "live",
    ]  # fmt: skip
    export_filename = "hotlines"
    # A translation's "Used N times" counts the settings' references to its English source.
    edit_view_class = TranslationEditView
    usage_view_class = TranslationUsageView


class SafetyGuidanceViewSet(SnippetViewSet):
    model = SafetyGuidance
    icon = "warning"
    menu_label = "Safety guidance"
    list_display = [
        "text", "checked_on", LocaleColumn(label="Language"), "site", LiveStatusTagColumn(),
    ]  # fmt: skip
    list_filter = STATUS
    list_export = [
        "text", "emergency_number", "source_name", "source_url", "checked_on", "checked_by",
        "site", "locale", "live",
    ]  # fmt: skip
    export_filename = "safety-guidance"


class ResourcesGroup(SnippetViewSetGroup):
    menu_label = "Resources"
    menu_icon = "folder-open-inverse"
    menu_order = 300
    items = (
        StatuteViewSet,
        OrganizationViewSet,
        PublicationViewSet,
        FundingOpportunityViewSet,
        CampaignViewSet,
        HotlineViewSet,
        SafetyGuidanceViewSet,
    )


register_snippet(ResourcesGroup)


@hooks.register("register_reports_menu_item")
def out_of_date_translations_menu_item():
    return MenuItem(
        "Out-of-date translations",
        reverse("out_of_date_translations"),
        icon_name="globe",
        order=700,
    )


@hooks.register("register_admin_urls")
def out_of_date_translations_urls():
    view = OutOfDateTranslationsView
    return [
        path("reports/out-of-date-translations/", view.as_view(), name="out_of_date_translations"),
        path(
            "reports/out-of-date-translations/results/",
            view.as_view(results_only=True),
            name="out_of_date_translations_results",
        ),
    ]
