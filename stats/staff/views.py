"""Wagtail admin views of the Statistics menu: figures import and listing helpers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.defaults import permission_denied
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.models import Page, Site
from wagtail.snippets.views.snippets import (
    CreateView,
    DeleteView,
    EditView,
    IndexView,
    InspectView,
)

from stats.exchange import (
    FORMATS,
    RevertRefused,
    UploadError,
    export_dataset,
    revert_import,
    template_file,
)
from stats.exchange.common import CONTENT_TYPES, neutralise
from stats.exchange.forms import ConfirmImportForm, ImportUploadForm
from stats.exchange.importing import (
    DatabaseBusy,
    history_of,
    plan_revert,
    record_edit,
    restore_values,
)
from stats.exchange.reading import check_upload
from stats.exchange.tasks import apply_import, check_import, release_stranded
from stats.exchange.validating import figure_values
from stats.models import (
    ImportRecord,
    Metric,
    Observation,
    ObservationChange,
    announce_figures_changed,
)
from stats.opendata.counts import cached_count
from stats.staff.search import OBSERVATION_SEARCH, WordSearchMixin
from stats.store.breakdowns import breakdown_warnings

IMPORT_PERMISSION = "stats.import_observation"


def local_time(value):
    """A moment in the site's time zone, named: "Dec. 4, 2026, 9:23 a.m. CST" (a sentence may
    end after it without a second period)."""
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


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
    """Step 1: upload. The file is kept in an ImportRecord and checked in the background."""

    template_name = "stats/admin/import_upload.html"
    form_class = ImportUploadForm
    page_title = "Import figures"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recent"] = ImportRecord.objects.select_related("user").defer("content")[:10]
        context["scheduled"] = (
            ImportRecord.objects.filter(status=ImportRecord.Status.SCHEDULED)
            .defer("content")
            .order_by("go_live_at")
        )
        context["template_urls"] = {
            fmt: reverse("stats_import:template", args=[fmt]) for fmt in ("xlsx", "csv")
        }
        context["add_source_url"] = reverse("wagtailsnippets_stats_source:add")
        context["sources_url"] = reverse("wagtailsnippets_stats_source:list")
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        content = upload.read()
        name = upload.name
        try:
            check_upload(name, content)  # the quick checks now; reading the rows in the task
        except UploadError as e:
            form.add_error("file", list(e.messages))
            return self.form_invalid(form)
        record = ImportRecord.objects.create(
            file_name=name[:255],
            file_format=name.rsplit(".", 1)[-1].lower()[:8],
            content=content,
            user=self.request.user,
            status=ImportRecord.Status.CHECKING,
        )
        check_import.enqueue(record.pk)
        return redirect("stats_import:preview", record.pk)


class PreviewView(ImportBase, TemplateView):
    """Step 2: the preview (every new, changed and unchanged row, errors and warnings), and
    after confirming, what was imported: the record of one import."""

    template_name = "stats/admin/import_preview.html"

    def get_page_title(self):
        Status = ImportRecord.Status
        return {
            Status.CHECKING: "Checking the file",
            Status.PREVIEWED: "Import preview",
            Status.QUEUED: "Importing",
            Status.SCHEDULED: "Import scheduled",
            Status.IMPORTED: "Imported",
            Status.REJECTED: "Import rejected",
            Status.FAILED: "Import failed",
            Status.REVERTED: "Import reverted",
        }.get(self.record.status, "Import")

    def get(self, request, *args, **kwargs):
        release_stranded(ImportRecord.objects.filter(pk=kwargs["pk"]))  # its worker died?
        self.record = get_object_or_404(
            ImportRecord.objects.select_related("user"), pk=kwargs["pk"]
        )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = self.record
        counts = record.counts or {}
        Status = ImportRecord.Status
        context.update(
            record=record,
            counts=counts,
            errors=counts.get("errors", []),
            warnings=counts.get("warnings", []),
            changes=record.changes or [],
            new_rows=counts.get("new_rows", []),
            replacing_rows=counts.get("replacing_rows", []),
            unchanged_rows=counts.get("unchanged_rows", []),
            can_confirm=record.status == Status.PREVIEWED and not counts.get("errors"),
            can_revert=record.status == Status.IMPORTED
            and (record.observation_changes.exists() or record.created_observations.exists()),
            pending=record.status in (Status.CHECKING, Status.QUEUED),
            form=ConfirmImportForm(),
            pages=pages_showing(record)
            if record.status == Status.IMPORTED
            or (record.status == Status.PREVIEWED and (record.changes or counts.get("replacing")))
            else [],
        )
        return context


def pages_showing(record):
    """The live public pages whose blocks show a metric this import wrote."""
    slugs = {c["key"]["metric"] for c in record.changes or []}
    counts = record.counts or {}
    for listed in ("new_rows", "replacing_rows"):
        slugs |= {r["key"]["metric"] for r in counts.get(listed, [])}
    return pages_showing_metrics(
        set(Metric.objects.filter(slug__in=slugs).values_list("pk", flat=True))
    )


def pages_showing_metrics(ids):
    """The live public pages whose blocks show one of these metrics."""
    if not ids:
        return []
    found = []
    pages = Page.objects.live().public().specific().select_related("locale").order_by("path")
    sites = {site.pk: site for site in Site.objects.all()}
    for page in pages:
        body = getattr(page, "body", None)
        if body is not None and _names_metric(body.raw_data, ids):
            parts = page.get_url_parts()
            site = sites.get(parts[0]) if parts else None
            # Each pack has a page of the same title: the site and language tell them apart.
            page.site_label = (site.site_name or site.hostname) if site else ""
            page.language_label = page.locale.get_display_name()
            page.full = f"{parts[1]}{parts[2]}" if parts else page.url
            found.append(page)
    return found


def _names_metric(data, ids):
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("metric", "metrics"):
                values = value if isinstance(value, list) else [value]
                if any(v in ids for v in values if isinstance(v, int)):
                    return True
            if _names_metric(value, ids):
                return True
    elif isinstance(data, (list, tuple)) or hasattr(data, "__iter__") and not isinstance(data, str):
        return any(_names_metric(item, ids) for item in data)
    return False


class ConfirmView(ImportPermissionMixin, View):
    """Step 3: confirm. The import runs in the background, at once or at its go-live time.

    The record moves from "previewed" to "queued" in one conditional update, so a double
    click imports once; the task checks that the store has not changed since the preview."""

    http_method_names = ["post"]

    def post(self, request, pk):
        form = ConfirmImportForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("go_live_at", []):
                messages.error(request, error)
            return redirect("stats_import:preview", pk)
        go_live_at = form.cleaned_data.get("go_live_at")
        reason = form.cleaned_data.get("reason", "").strip()
        Status = ImportRecord.Status
        status = Status.SCHEDULED if go_live_at else Status.QUEUED
        try:
            with transaction.atomic():
                claimed = ImportRecord.objects.filter(pk=pk, status=Status.PREVIEWED).update(
                    status=status,
                    go_live_at=go_live_at,
                    reason=reason,
                    user=request.user,
                    message="",
                    progress=0,
                )
                if claimed:  # enqueued in the same transaction as the claim
                    job = apply_import.using(run_after=go_live_at) if go_live_at else apply_import
                    job.enqueue(pk, request.user.pk)
                if claimed and go_live_at:
                    announce_release(pk, "scheduled", go_live_at)
        except OperationalError:
            messages.error(request, DatabaseBusy.message)
            return redirect("stats_import:preview", pk)
        if not claimed:
            messages.warning(request, "This preview was already confirmed; it is imported once.")
        elif go_live_at:
            when = local_time(go_live_at)
            messages.success(request, f"Scheduled: the figures go live on {when}.")
        return redirect("stats_import:preview", pk)


class CancelScheduleView(ImportPermissionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        Status = ImportRecord.Status
        reason = request.POST.get("reason", "").strip()[:2000]
        with transaction.atomic():
            if ImportRecord.objects.filter(pk=pk, status=Status.SCHEDULED).update(
                status=Status.PREVIEWED, go_live_at=None
            ):
                announce_release(pk, "cancelled", reason=reason)
                messages.success(
                    request, "The scheduled release was cancelled; nothing was imported."
                )
        return redirect("stats_import:preview", pk)


def announce_release(pk, event, go_live_at=None, reason=""):
    """Keep a step of a release's schedule for the public calendar, and let the cached
    public pages (the calendar among them) know."""
    record = ImportRecord.objects.select_for_update().defer("content").get(pk=pk)
    record.note_release(event, go_live_at, reason)
    record.save(update_fields=["release_events"])
    announce_figures_changed(set())


class RevertView(ImportBase, TemplateView):
    """Revert an import: a summary of what it will change (old -> new, the later changes it
    must undo too, the public pages affected), then a confirmation by POST."""

    template_name = "stats/admin/import_revert.html"
    page_title = "Revert this import"

    def dispatch(self, request, *args, **kwargs):
        self.record = get_object_or_404(ImportRecord.objects.defer("content"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = None
        if self.record.status == ImportRecord.Status.IMPORTED:
            with transaction.atomic():
                plan = plan_revert(self.record)
        context.update(
            record=self.record,
            plan=plan,
            restores=[(o, figure_values(o), values) for o, values in plan.restores] if plan else [],
            pages=pages_showing(self.record) if plan else [],
        )
        return context

    def post(self, request, pk):
        with_later = request.POST.get("with_later") == "1"
        try:
            record = revert_import(
                self.record,
                user=request.user,
                with_later=with_later,
                reason=request.POST.get("reason", "").strip()[:2000],
            )
        except RevertRefused as e:
            messages.error(request, str(e))
            return redirect("stats_import:revert", pk)
        except OperationalError:
            messages.error(request, "The database was busy; nothing was reverted. Try again.")
            return redirect("stats_import:revert", pk)
        messages.success(request, record.message)
        return redirect("stats_import:preview", pk)


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


class CountedPaginator(WagtailPaginator):
    """Wagtail's paginator, with the count of each filter kept under the data version
    (stats.opendata.counts), so a page of a million figures does not count them all again."""

    @cached_property
    def count(self):
        return cached_count(self.object_list)


class ObservationIndexView(WordSearchMixin, IndexView):
    # Every word must match: "active criminal <state name> 2019" finds that figure.
    word_search_options = OBSERVATION_SEARCH
    paginator_class = CountedPaginator
    # In key order by the columns of the (metric, jurisdiction, period_start) index, not by
    # the labels of what they name (a join and a sort of the whole table).
    default_ordering = ("metric_id", "jurisdiction_id", "period_start", "period_end", "-pk")

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

    def get_header_buttons(self):
        return [
            *super().get_header_buttons(),
            HeaderButton(
                "History of values",
                url=reverse("stats_observation_history", args=[self.object.pk]),
                icon_name="history",
            ),
        ]

    def save_instance(self):
        old = figure_values(Observation.objects.get(pk=self.object.pk))
        instance = super().save_instance()
        reason = self.form.cleaned_data.get("reason", "").strip()
        record_edit(instance, old, user=self.request.user, reason=reason)
        for warning in group_warnings([instance]):
            messages.warning(self.request, warning.message)
        return instance


class ObservationCreateView(CreateView):
    def save_instance(self):
        instance = super().save_instance()
        record_edit(instance, None, user=self.request.user, action=ObservationChange.Action.CREATED)
        return instance


class ObservationDeleteView(DeleteView):
    def delete_action(self):
        old = figure_values(self.object)
        deleted = Observation(
            **{
                f.attname: getattr(self.object, f.attname)
                for f in Observation._meta.concrete_fields
            }
        )
        super().delete_action()
        record_edit(deleted, old, user=self.request.user, action=ObservationChange.Action.DELETED)


class ObservationHistoryRedirect(View):
    """Wagtail's own "History" of an observation: the one history is the history of values."""

    def get(self, request, pk):
        return redirect("stats_observation_history", pk)


class ObservationBase(WagtailAdminTemplateMixin):
    header_icon = "history"

    def dispatch(self, request, pk, **kwargs):
        if not request.user.has_perm("stats.view_observation"):
            return permission_denied(request, PermissionDenied("No access to figures."))
        self.object = get_object_or_404(Observation.objects.for_display(), pk=pk)
        return super().dispatch(request, pk, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": "Home"},
            {"url": reverse("wagtailsnippets_stats_observation:list"), "label": "Observations"},
            {
                "url": reverse("wagtailsnippets_stats_observation:edit", args=[self.object.pk]),
                "label": str(self.object),
            },
            {"url": "", "label": self.get_page_title()},
        ]


class ObservationHistoryView(ObservationBase, TemplateView):
    """Every step of one figure, from its creation: old and new values, who, when, through
    which import or edit, and why; a data manager may restore the values of any step."""

    template_name = "stats/admin/observation_history.html"

    def get_page_title(self):
        return f"History of {self.object}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            changes=history_of(self.object),
            can_restore=self.request.user.has_perm("stats.change_observation"),
        )
        return context


class ObservationRestoreView(ObservationBase, TemplateView):
    """Restore a figure's values before or after one step of its history: what changes, the
    public pages that show it, and a reason (required for a published figure); then POST."""

    template_name = "stats/admin/observation_restore.html"
    page_title = "Restore an earlier value"

    def dispatch(self, request, pk, **kwargs):
        if not request.user.has_perm("stats.change_observation"):
            return permission_denied(request, PermissionDenied("Only data managers may restore."))
        return super().dispatch(request, pk, **kwargs)

    def _values(self):
        wanted = self.request.GET.get("change") or self.request.POST.get("change")
        side = self.request.GET.get("side") or self.request.POST.get("side") or "old"
        for change in history_of(self.object):
            if str(change.pk) == str(wanted) or (change.pk is None and wanted == "created"):
                values = change.new if side == "new" else change.old
                if values:
                    return wanted, side, values
        raise Http404("No such step in this figure's history.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wanted, side, values = self._values()
        now = figure_values(self.object)
        context.update(
            object=self.object,
            change=wanted,
            side=side,
            differences=[
                (n, now[n], values.get(n, "")) for n in now if now[n] != values.get(n, "")
            ],
            needs_reason=self.object.is_current,
            pages=pages_showing_metrics({self.object.metric_id}),
            error=kwargs.get("error", ""),
        )
        return context

    def post(self, request, pk):
        _wanted, _side, values = self._values()
        reason = request.POST.get("reason", "").strip()[:2000]
        if self.object.is_current and not reason:
            return self.render_to_response(
                self.get_context_data(error="Say why this published figure changes.")
            )
        try:
            restore_values(self.object, values, user=request.user, reason=reason)
        except (RevertRefused, ValidationError) as e:
            messages.error(request, " ".join(getattr(e, "messages", [str(e)])))
        except OperationalError:
            messages.error(request, "The database was busy; nothing was changed. Try again.")
        else:
            messages.success(request, "The earlier values were restored.")
        return redirect("stats_observation_history", pk)


class ImportRecordInspectView(InspectView):
    """The record of an import in words and local times, not raw dictionaries."""

    def _local(self, value):
        return local_time(value) if value else "-"

    def get_created_at_display_value(self):
        return self._local(self.object.created_at)

    def get_imported_at_display_value(self):
        return self._local(self.object.imported_at)

    def get_go_live_at_display_value(self):
        return self._local(self.object.go_live_at)

    def get_reverted_at_display_value(self):
        return self._local(self.object.reverted_at)

    def get_counts_display_value(self):
        c = self.object.counts or {}
        return format_html(
            "{} rows: {} new, {} updated, {} unchanged, {} errors, {} warnings. "
            '<a href="{}">See every row</a>',
            c.get("total", 0),
            c.get("new", 0),
            c.get("updated", 0),
            c.get("unchanged", 0),
            c.get("error", 0),
            c.get("warning", 0),
            reverse("stats_import:preview", args=[self.object.pk]),
        )

    def get_changes_display_value(self):
        lines = [
            f"row {c['row']}: {c['observation']} ({c['key']['source']}): "
            + ", ".join(
                f"{name} {old or '(empty)'} -> {new or '(empty)'}"
                for name, (old, new) in c["fields"].items()
            )
            for c in self.object.changes or []
        ]
        if not lines:
            return "No stored value changed."
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines[:200]))


class SafeSpreadsheetMixin:
    """Neutralise formula-starting text in Wagtail's own list exports."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return neutralise(value) if isinstance(value, str) else value


class SafeIndexView(SafeSpreadsheetMixin, IndexView):
    pass
