"""Wagtail admin views of the Statistics menu: figures import and listing helpers."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.defaults import permission_denied
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.snippets.views.snippets import EditView, IndexView

from .checks import breakdown_warnings
from .downloads import FORMATS as CONTENT_TYPES
from .forms import ConfirmImportForm, ImportUploadForm
from .models import ImportRecord, Observation
from .spreadsheets import (
    FORMATS,
    UploadError,
    export_dataset,
    read_upload,
    record_import,
    run_import,
    template_file,
)
from .spreadsheets.common import neutralise
from .staff import OBSERVATION_SEARCH, WordSearchMixin

IMPORT_PERMISSION = "stats.import_observation"


class ImportPermissionMixin:
    """Data managers only. Answers 403 itself: Wagtail would turn PermissionDenied into a
    redirect to the dashboard."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(IMPORT_PERMISSION):
            return permission_denied(
                request, PermissionDenied("Only data managers may import figures.")
            )
        return super().dispatch(request, *args, **kwargs)


class ImportBase(ImportPermissionMixin, WagtailAdminTemplateMixin):
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": "Home"},
            {"url": reverse("stats_import:upload"), "label": "Import figures"},
            {"url": "", "label": self.get_page_title()},
        ]


class UploadView(ImportBase, FormView):
    """Step 1: upload. The file is kept in an ImportRecord and checked by a dry run."""

    template_name = "stats/admin/import_upload.html"
    form_class = ImportUploadForm
    page_title = "Import figures"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recent"] = ImportRecord.objects.select_related("user")[:10]
        context["template_urls"] = {
            fmt: reverse("stats_import:template", args=[fmt]) for fmt in ("xlsx", "csv")
        }
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        content = upload.read()
        name = upload.name
        try:
            dataset = read_upload(name, content)
        except UploadError as e:
            form.add_error("file", list(e.messages))
            return self.form_invalid(form)
        outcome = run_import(dataset, dry_run=True, user=self.request.user)
        record = record_import(name, content, outcome, user=self.request.user)
        return redirect("stats_import:preview", record.pk)


class PreviewView(ImportBase, TemplateView):
    """Step 2: the dry run's counts, changes, errors and warnings; confirm if clean."""

    template_name = "stats/admin/import_preview.html"
    page_title = "Import preview"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = get_object_or_404(ImportRecord.objects.select_related("user"), pk=kwargs["pk"])
        counts = record.counts or {}
        context.update(
            record=record,
            counts=counts,
            errors=counts.get("errors", []),
            warnings=counts.get("warnings", []),
            changes=record.changes or [],
            can_confirm=record.status == ImportRecord.Status.PREVIEWED,
            form=ConfirmImportForm(),
        )
        return context


class ConfirmView(ImportPermissionMixin, View):
    """Step 3: import for real, in one transaction, from the stored file."""

    http_method_names = ["post"]

    def post(self, request, pk):
        with transaction.atomic():
            record = get_object_or_404(
                ImportRecord.objects.select_for_update(),
                pk=pk,
                status=ImportRecord.Status.PREVIEWED,
            )
            try:
                dataset = read_upload(record.file_name, bytes(record.content))
            except UploadError as e:  # the stored file was checked at upload; be safe anyway
                messages.error(request, " ".join(e.messages))
                return redirect("stats_import:preview", pk)
            # The store may have changed since the preview (another import, an edit): then
            # confirming would apply changes nobody has seen. Show a fresh preview instead.
            check = run_import(dataset, dry_run=True, user=request.user)
            if not _same_preview(check, record):
                record_import(record.file_name, b"", check, user=request.user, record=record)
                messages.warning(
                    request,
                    "The figures changed since this preview was made. Nothing was imported: "
                    "review the new preview below, then confirm again.",
                )
                return redirect("stats_import:preview", pk)
            outcome = run_import(dataset, dry_run=False, user=request.user)
            record.user = request.user
            record_import(record.file_name, b"", outcome, user=request.user, record=record)
        if outcome.ok:
            messages.success(request, f"Imported {record.file_name}: {outcome.summary()}")
        else:
            messages.error(
                request, f"{record.file_name} was rejected; nothing was changed. See the errors."
            )
        return redirect("stats_import:preview", pk)


def _same_preview(outcome, record):
    """Whether a dry run now finds what the stored preview showed."""
    keys = ("new", "updated", "unchanged", "error")
    stored = record.counts or {}
    return all(outcome.counts.get(k) == stored.get(k) for k in keys) and json.loads(
        json.dumps(outcome.changes, default=str)
    ) == (record.changes or [])


class TemplateDownloadView(ImportPermissionMixin, View):
    def get(self, request, fmt):
        if fmt not in ("csv", "xlsx"):
            raise Http404
        response = HttpResponse(template_file(fmt), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="observations-template.{fmt}"'
        return response


# --- Observation listing and edit view -----------------------------------------------------


def group_warnings(observations):
    """Breakdown warnings for the groups (metric, jurisdiction, period, source) shown."""
    keys = {
        (o.metric_id, o.jurisdiction_id, o.period_start, o.period_end, o.source_id)
        for o in observations
    }
    if not keys:
        return []
    query = Q()
    for metric, jurisdiction, start, end, source in list(keys)[:200]:
        query |= Q(
            metric_id=metric,
            jurisdiction_id=jurisdiction,
            period_start=start,
            period_end=end,
            source_id=source,
        )
    return breakdown_warnings(Observation.objects.filter(query).for_display())


class ObservationIndexView(WordSearchMixin, IndexView):
    # Every word must match: "active criminal <state name> 2019" finds that figure.
    word_search_options = OBSERVATION_SEARCH

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .select_related("metric", "jurisdiction", "source", "breakdown")
        )

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if not self.is_export:
            context["breakdown_warnings"] = group_warnings(context["object_list"])
        return context

    def as_spreadsheet(self, queryset, spreadsheet_format):
        """The exchange format (importable again), formula-safe, exact decimals."""
        fmt = spreadsheet_format if spreadsheet_format in FORMATS else "csv"
        response = HttpResponse(export_dataset(queryset, fmt), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{self.get_filename()}.{fmt}"'
        return response


class ObservationEditView(EditView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["breakdown_warnings"] = group_warnings([self.object])
        for warning in context["breakdown_warnings"]:
            messages.warning(self.request, warning.message)
        return context

    def save_instance(self):
        instance = super().save_instance()
        for warning in group_warnings([instance]):
            messages.warning(self.request, warning.message)
        return instance


class SafeSpreadsheetMixin:
    """Neutralise formula-starting text in Wagtail's own list exports."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return neutralise(value) if isinstance(value, str) else value


class SafeIndexView(SafeSpreadsheetMixin, IndexView):
    pass
