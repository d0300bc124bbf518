"""The "Statistics" menu of the Wagtail admin."""

from django.urls import path
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.base import ViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from stats.models import (
    Category,
    Dimension,
    ImportRecord,
    Jurisdiction,
    Metric,
    Observation,
    Source,
    StateSourceText,
)
from stats.staff import search as staff
from stats.staff import views as admin_views
from stats.staff.filters import (
    ImportRecordFilterSet,
    JurisdictionFilterSet,
    MetricFilterSet,
    ObservationFilterSet,
    SourceFilterSet,
)


class MetricIndexView(staff.WordSearchMixin, admin_views.SafeIndexView):
    word_search_options = staff.METRIC_SEARCH


class JurisdictionIndexView(staff.WordSearchMixin, admin_views.SafeIndexView):
    word_search_options = staff.JURISDICTION_SEARCH


class MetricViewSet(SnippetViewSet):
    model = Metric
    icon = "table"
    menu_label = "Metrics"
    index_view_class = MetricIndexView
    list_display = ["label", "slug", "unit", "dimension"]
    filterset_class = MetricFilterSet
    chooser_viewset_class = staff.MetricChooserViewSet
    list_export = ["slug", "label", "unit", "dimension", "definition"]
    export_filename = "metrics"
    ordering = ["label"]


class SourceViewSet(SnippetViewSet):
    model = Source
    icon = "doc-full"
    menu_label = "Sources"
    index_view_class = admin_views.SafeIndexView
    list_display = ["__str__", "slug", "edition_year", "published_on"]
    filterset_class = SourceFilterSet
    list_export = [
        "slug",
        "publisher",
        "title",
        "edition",
        "edition_year",
        "url",
        "published_on",
        "data_as_of",
        "coverage",
        "caveat",
    ]
    export_filename = "sources"


class JurisdictionViewSet(SnippetViewSet):
    model = Jurisdiction
    icon = "site"
    menu_label = "Jurisdictions"
    index_view_class = JurisdictionIndexView
    list_display = ["name", "code", "kind", "parent"]
    filterset_class = JurisdictionFilterSet
    chooser_viewset_class = staff.JurisdictionChooserViewSet
    list_export = ["code", "name", "kind", "parent", "is_territory"]
    export_filename = "jurisdictions"
    list_per_page = 50


class ObservationViewSet(SnippetViewSet):
    model = Observation
    icon = "table"
    menu_label = "Observations"
    index_view_class = admin_views.ObservationIndexView
    add_view_class = admin_views.ObservationCreateView
    edit_view_class = admin_views.ObservationEditView
    delete_view_class = admin_views.ObservationDeleteView
    history_view_class = admin_views.ObservationHistoryRedirect
    index_results_template_name = "stats/admin/observation_index_results.html"
    list_display = [
        "__str__",
        Column("display_value", label="Value", sort_key="value"),
        Column("rank", label="Rank", sort_key="rank"),
        "source",
        "updated_at",
    ]
    filterset_class = ObservationFilterSet
    search_fields = [
        "metric__label",
        "metric__slug",
        "jurisdiction__name",
        "jurisdiction__code",
        "breakdown__label",
        "source__slug",
        "footnote",
    ]
    # Exported in the exchange format by ObservationIndexView.as_spreadsheet.
    list_export = ["jurisdiction", "metric", "period", "breakdown", "value", "source"]
    export_filename = "observations"
    list_per_page = 50

    def get_edit_handler(self):
        # Wagtail's panels for the model, with a form that shows a count of 5 as "5".
        panels = [*super().get_edit_handler().children, FieldPanel("reason")]
        return ObjectList(panels, base_form_class=staff.ObservationForm).bind_to_model(self.model)


class DimensionViewSet(SnippetViewSet):
    model = Dimension
    icon = "list-ul"
    menu_label = "Dimensions"
    index_view_class = admin_views.SafeIndexView
    list_display = ["label", "slug"]
    search_fields = ["label", "slug"]
    list_export = ["slug", "label"]


class StateSourceTextViewSet(SnippetViewSet):
    """Each state's words for a shared source edition (the title of its state summary, its
    caveats): what that state's site cites."""

    model = StateSourceText
    icon = "doc-full"
    menu_label = "Sources' words per state"
    index_view_class = admin_views.SafeIndexView
    list_display = ["source", "jurisdiction", "title"]
    list_filter = ["jurisdiction"]
    list_export = ["source", "jurisdiction", "title", "caveat"]


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = "Categories"
    index_view_class = admin_views.SafeIndexView
    list_display = ["label", "slug", "dimension", "sort_order"]
    list_filter = ["dimension"]
    search_fields = ["label", "slug"]
    list_export = ["dimension", "slug", "label", "sort_order", "note"]


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Import records are written by imports only: they may be viewed or deleted."""

    def user_has_permission(self, user, action):
        if action in ("add", "change"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(ImportRecord, ReadOnlyPolicy(ImportRecord))


class ImportRecordViewSet(SnippetViewSet):
    model = ImportRecord
    icon = "history"
    menu_label = "Import history"
    inspect_view_enabled = True
    inspect_view_class = admin_views.ImportRecordInspectView
    copy_view_enabled = False
    list_display = ["file_name", "status", "user", "created_at", "imported_at", "go_live_at"]
    filterset_class = ImportRecordFilterSet
    search_fields = ["file_name"]
    list_export = ["file_name", "file_format", "status", "user", "created_at", "imported_at"]
    inspect_view_fields = [
        "file_name",
        "file_format",
        "status",
        "user",
        "created_at",
        "imported_at",
        "go_live_at",
        "reverted_at",
        "message",
        "counts",
        "changes",
    ]


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.IMPORT_PERMISSION)


class ImportViewSet(ViewSet):
    """The "Import figures" views: upload, preview, confirm, template download."""

    name = "stats_import"
    url_prefix = "statistics/import"
    icon = "upload"
    menu_label = "Import figures"
    menu_item_class = ImportMenuItem

    def get_urlpatterns(self):
        return [
            path("", admin_views.UploadView.as_view(), name="upload"),
            path("<int:pk>/", admin_views.PreviewView.as_view(), name="preview"),
            path("<int:pk>/confirm/", admin_views.ConfirmView.as_view(), name="confirm"),
            path("<int:pk>/cancel/", admin_views.CancelScheduleView.as_view(), name="cancel"),
            path("<int:pk>/revert/", admin_views.RevertView.as_view(), name="revert"),
            path(
                "template.<str:fmt>",
                admin_views.TemplateDownloadView.as_view(),
                name="template",
            ),
        ]


class StatisticsGroup(SnippetViewSetGroup):
    menu_label = "Statistics"
    menu_icon = "table"
    menu_order = 300
    items = (
        ObservationViewSet,
        MetricViewSet,
        SourceViewSet,
        StateSourceTextViewSet,
        JurisdictionViewSet,
        DimensionViewSet,
        CategoryViewSet,
        ImportViewSet,
        ImportRecordViewSet,
    )


register_snippet(StatisticsGroup)


@hooks.register("register_admin_urls")
def register_history_url():
    return [
        path(
            "statistics/observations/<int:pk>/history/",
            admin_views.ObservationHistoryView.as_view(),
            name="stats_observation_history",
        ),
        path(
            "statistics/observations/<int:pk>/restore/",
            admin_views.ObservationRestoreView.as_view(),
            name="stats_observation_restore",
        ),
    ]
