"""The editors' report of out-of-date translations: pages and snippets whose English was
published after the translation was last published, each with links to edit both."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page

from resources.synchronized import default_language_code


@dataclass
class OutOfDate:
    kind: str
    title: str
    language: str
    source_changed: datetime
    translated: datetime | None
    edit_url: str
    source_edit_url: str


def stale(model):
    """The translations of `model` whose default-language item was published after them."""
    default = default_language_code()
    manager = model._default_manager
    source = manager.filter(
        translation_key=OuterRef("translation_key"), locale__language_code=default
    )
    return (
        manager.exclude(locale__language_code=default)
        .annotate(
            source_changed=Subquery(source.values("last_published_at")[:1]),
            source_pk=Subquery(source.values("pk")[:1]),
        )
        .filter(source_changed__gt=F("last_published_at"))
        .select_related("locale")
    )


def source_edit_url(finder, model, pk):
    if model is Page:
        return reverse("wagtailadmin_pages:edit", args=[pk])
    return finder.get_edit_url(model(pk=pk)) or ""


def out_of_date_translations(user=None):
    """Every out-of-date translation, pages first, then the lists' snippets: one query a model."""
    finder = AdminURLFinder(user)
    rows = []
    for model in (Page, *apps.get_app_config("resources").get_models()):
        for item in stale(model).order_by("-source_changed"):
            rows.append(
                OutOfDate(
                    kind="page" if model is Page else str(model._meta.verbose_name),
                    title=str(item.title if model is Page else item),
                    language=item.locale.get_display_name(),
                    source_changed=item.source_changed,
                    translated=item.last_published_at,
                    edit_url=finder.get_edit_url(item) or "",
                    source_edit_url=source_edit_url(finder, model, item.source_pk),
                )
            )
    return rows


class OutOfDateTranslationsView(ReportView):
    page_title = "Out-of-date translations"
    header_icon = "globe"
    index_url_name = "out_of_date_translations"
    index_results_url_name = "out_of_date_translations_results"
    list_export = ["kind", "title", "language", "source_changed", "translated"]
    columns = [
        TitleColumn("title", label="Translation", get_url=lambda row: row.edit_url),
        Column("kind", label="Kind"),
        Column("language", label="Language"),
        DateColumn("source_changed", label="English published"),
        DateColumn("translated", label="Translation last published"),
        TitleColumn(
            "source",
            label="English",
            accessor=lambda row: "Edit the English",
            get_url=lambda row: row.source_edit_url,
        ),
    ]

    def get_queryset(self):
        return out_of_date_translations(self.request.user)
