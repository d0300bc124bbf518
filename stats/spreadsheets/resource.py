"""The one django-import-export Resource of observations."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import resources
from import_export.fields import Field

from ..formatting import format_decimal
from ..models import (
    RANKED_JURISDICTIONS,
    Category,
    Jurisdiction,
    Metric,
    Observation,
    Source,
    validate_figures,
)
from ..periods import PeriodError, format_period, parse_period
from .common import (
    EXPORT_COLUMNS,
    FIGURE_FIELDS,
    _closest,
    clean_text,
    parse_number,
    unneutralise,
)

# --- The resource --------------------------------------------------------------------------


class ObservationResource(resources.ModelResource):
    """One observation per row, keyed by jurisdiction, metric, period, breakdown and source."""

    jurisdiction = Field(attribute="jurisdiction__code", column_name="jurisdiction")
    metric = Field(attribute="metric__slug", column_name="metric")
    period = Field(column_name="period")
    breakdown = Field(attribute="breakdown__slug", column_name="breakdown")
    value = Field(column_name="value")
    numerator = Field(column_name="numerator")
    denominator = Field(column_name="denominator")
    rank = Field(attribute="rank", column_name="rank")
    footnote = Field(attribute="footnote", column_name="footnote")
    source = Field(attribute="source__slug", column_name="source")
    source_title = Field(attribute="source__title", column_name="source_title", readonly=True)
    source_publisher = Field(
        attribute="source__publisher", column_name="source_publisher", readonly=True
    )
    source_url = Field(attribute="source__url", column_name="source_url", readonly=True)

    class Meta:
        model = Observation
        fields = EXPORT_COLUMNS
        export_order = EXPORT_COLUMNS
        import_id_fields = ()
        use_bulk = True
        batch_size = 2000
        skip_diff = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # validate_figures + our own key check instead
        use_transactions = True

    def __init__(self, user=None, progress=None, keep_existing=False, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.progress = progress
        self.keep_existing = keep_existing

    # Export -----------------------------------------------------------------------------

    def dehydrate_period(self, obj):
        return format_period(obj.period_start, obj.period_end)

    def dehydrate_value(self, obj):
        return format_decimal(obj.value)

    def dehydrate_numerator(self, obj):
        return format_decimal(obj.numerator)

    def dehydrate_denominator(self, obj):
        return format_decimal(obj.denominator)

    def dehydrate_breakdown(self, obj):
        return obj.breakdown.slug if obj.breakdown_id else ""

    # Import -----------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        """Build the lookup maps: one query per referenced table, one for existing rows."""
        headers = dataset.headers or []
        self.columns = set(headers)
        self.source_rows = getattr(dataset, "source_rows", None)
        self.jurisdictions = {j.code.upper(): j for j in Jurisdiction.objects.all()}
        wanted = (
            {clean_text(v).lower() for v in dataset["metric"]} if "metric" in headers else set()
        )
        self.metrics = {m.slug: m for m in Metric.objects.filter(slug__in=wanted)}
        wanted = (
            {clean_text(v).lower() for v in dataset["source"]} if "source" in headers else set()
        )
        self.sources = {s.slug: s for s in Source.objects.filter(slug__in=wanted)}
        dimension_ids = {m.dimension_id for m in self.metrics.values() if m.dimension_id}
        self.categories = {}
        for category in Category.objects.filter(dimension_id__in=dimension_ids):
            names = self.categories.setdefault(category.dimension_id, {})
            names.setdefault(category.slug.lower(), category)
            names.setdefault(clean_text(category.label).lower(), category)
        metrics = {m.pk: m for m in self.metrics.values()}
        sources = {s.pk: s for s in self.sources.values()}
        jurisdictions = {j.pk: j for j in self.jurisdictions.values()}
        categories = {c.pk: c for names in self.categories.values() for c in names.values()}
        self.existing = {}
        for o in Observation.objects.filter(metric__in=list(metrics), source__in=list(sources)):
            # Attach the objects already loaded, so that nothing is fetched row by row.
            o.metric, o.source = metrics[o.metric_id], sources[o.source_id]
            o.jurisdiction = jurisdictions[o.jurisdiction_id]
            if o.breakdown_id in categories:
                o.breakdown = categories[o.breakdown_id]
            self.existing[(*o.key, o.source_id)] = o
        self.seen = {}
        self.changes = []
        self.instances = []  # (row number, observation) of every valid row
        self.updated = []
        self.row_changes = None
        self.dry_run = kwargs.get("dry_run", False)

    def line(self, row_number):
        """The row's line in the spreadsheet (the header is line 1)."""
        if self.source_rows and 0 < row_number <= len(self.source_rows):
            return self.source_rows[row_number - 1]
        return row_number + 1

    def _unknown_metric_names(self):
        if not hasattr(self, "_all_metrics"):
            self._all_metrics = {
                slug: f'"{slug}"' for slug in Metric.objects.values_list("slug", flat=True)
            }
        return self._all_metrics

    def _unknown_source_names(self):
        if not hasattr(self, "_all_sources"):
            self._all_sources = {
                slug: f'"{slug}"' for slug in Source.objects.values_list("slug", flat=True)
            }
        return self._all_sources

    def parse_row(self, row):
        """Resolve and check one row. Returns (parsed dict, {column: message})."""
        errors = {}
        get = row.get
        # Jurisdiction
        code = clean_text(get("jurisdiction"))
        jurisdiction = self.jurisdictions.get(code.upper())
        if jurisdiction is None:
            if not code:
                errors["jurisdiction"] = (
                    "A jurisdiction code is required (e.g. US or a state's postal code)."
                )
            else:
                choices = {
                    j.code.lower(): f"{j.code} ({j.name})" for j in self.jurisdictions.values()
                }
                choices.update(
                    {j.name.lower(): f"{j.code} ({j.name})" for j in self.jurisdictions.values()}
                )
                errors["jurisdiction"] = f'Unknown jurisdiction "{code}".' + _closest(code, choices)
        # Metric
        slug = clean_text(get("metric")).lower()
        metric = self.metrics.get(slug)
        if metric is None:
            if not slug:
                errors["metric"] = "A metric is required."
            else:
                errors["metric"] = f'Unknown metric "{slug}".' + _closest(
                    slug, self._unknown_metric_names()
                )
        # Source
        slug = clean_text(get("source")).lower()
        source = self.sources.get(slug)
        if source is None:
            if not slug:
                errors["source"] = "A source edition slug is required."
            else:
                errors["source"] = f'Unknown source "{slug}".' + _closest(
                    slug, self._unknown_source_names()
                )
        # Period
        start = end = None
        period = get("period")
        if isinstance(period, float) and period.is_integer():
            period = int(period)
        period = clean_text(period)
        if not period:
            errors["period"] = "A period is required: a year such as 2019, or 2012-12/2016-12."
        else:
            try:
                start, end = parse_period(period)
            except PeriodError as e:
                errors["period"] = str(e)
        # Breakdown
        breakdown = None
        name = clean_text(get("breakdown"))
        if name and metric is not None:
            if metric.dimension_id is None:
                errors["breakdown"] = f'"{metric.slug}" has no breakdown; leave the cell empty.'
            else:
                names = self.categories.get(metric.dimension_id, {})
                breakdown = names.get(name.lower())
                if breakdown is None:
                    choices = {k: f'"{c.slug}"' for k, c in names.items()}
                    errors["breakdown"] = (
                        f'Unknown breakdown "{name}" for "{metric.slug}".' + _closest(name, choices)
                    )
        # Numbers
        parsed = {}
        unit = metric.unit if metric is not None else None
        for column in ("value", "numerator", "denominator", "rank"):
            if column not in self.columns:
                continue
            raw = get(column)
            if raw is None or (isinstance(raw, str) and not clean_text(raw)):
                parsed[column] = None
                continue
            try:
                number = parse_number(raw, percent_ok=(column == "value" and unit == "percent"))
            except ValueError as e:
                errors[column] = str(e)
                continue
            if column == "rank":
                if number != number.to_integral_value() or not 1 <= number <= RANKED_JURISDICTIONS:
                    errors["rank"] = (
                        f"A national rank is a whole number from 1 to {RANKED_JURISDICTIONS} "
                        f"(got {clean_text(raw)})."
                    )
                    continue
                number = int(number)
            parsed[column] = number
        if "footnote" in self.columns:
            parsed["footnote"] = unneutralise(
                str(get("footnote") or "").replace("\u00a0", " ").strip()
            )
        if parsed.get("value") is None and "value" not in errors:
            errors["value"] = "A value is required."
        if unit and not errors.keys() & {"value", "numerator", "denominator", "rank"}:
            # A column the file leaves out keeps its stored value: check the figures as they
            # will be saved, not only the columns present.
            stored = None
            if None not in (jurisdiction, metric, source, start):
                stored = self.existing.get(
                    (
                        metric.pk,
                        jurisdiction.pk,
                        start,
                        end,
                        getattr(breakdown, "pk", None),
                        source.pk,
                    )
                )

            def figure(column):
                if column in self.columns:
                    return parsed.get(column)
                return getattr(stored, column, None)

            for column, message in validate_figures(
                unit, parsed["value"], figure("numerator"), figure("denominator"), figure("rank")
            ).items():
                errors.setdefault(column, message)
        parsed.update(
            jurisdiction=jurisdiction,
            metric=metric,
            source=source,
            breakdown=breakdown,
            period_start=start,
            period_end=end,
        )
        return parsed, errors

    def get_or_init_instance(self, instance_loader, row):
        row_number = self._row_number
        parsed, errors = self.parse_row(row)
        if errors:
            raise ValidationError(errors)
        key = (
            parsed["metric"].pk,
            parsed["jurisdiction"].pk,
            parsed["period_start"],
            parsed["period_end"],
            parsed["breakdown"].pk if parsed["breakdown"] else None,
            parsed["source"].pk,
        )
        first = self.seen.setdefault(key, row_number)
        if first != row_number:
            raise ValidationError(
                {
                    "key": "The same jurisdiction, metric, period, breakdown and source are "
                    f"already in row {self.line(first)}; give each observation once."
                }
            )
        self._parsed = parsed
        instance = self.existing.get(key)
        if instance is not None:
            return instance, False
        instance = Observation(
            metric=parsed["metric"],
            jurisdiction=parsed["jurisdiction"],
            source=parsed["source"],
            breakdown=parsed["breakdown"],
            period_start=parsed["period_start"],
            period_end=parsed["period_end"],
        )
        return instance, True

    def import_row(self, row, instance_loader, **kwargs):
        self._row_number = kwargs.get("row_number", 0)
        self.row_changes = None
        return super().import_row(row, instance_loader, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        parsed = self._parsed
        new = instance.pk is None
        changes = {}
        if self.keep_existing and not new:
            self.row_changes = changes  # a value already in the store is left as it is
            return
        for name in FIGURE_FIELDS:
            if name not in parsed:
                continue  # the column is absent: keep what is stored
            value = parsed[name]
            if name == "footnote":
                value = value or ""
            old = getattr(instance, name)
            if new:
                setattr(instance, name, value)
            elif old != value:
                changes[name] = (old, value)
                setattr(instance, name, value)
        if new and instance.footnote is None:
            instance.footnote = ""
        self.row_changes = changes

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        return instance.pk is not None and not self.row_changes

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        line = self.line(self._row_number)
        if not is_create:
            instance.updated_at = timezone.now()
            self.updated.append(instance)
            self.changes.append(
                {
                    "row": line,
                    "observation": str(instance),
                    "key": {
                        "jurisdiction": instance.jurisdiction.code,
                        "metric": instance.metric.slug,
                        "period": format_period(instance.period_start, instance.period_end),
                        "breakdown": instance.breakdown.slug if instance.breakdown else "",
                        "source": instance.source.slug,
                    },
                    "fields": {
                        name: [_show(old), _show(new)]
                        for name, (old, new) in self.row_changes.items()
                    },
                }
            )
        if not self._is_dry_run(kwargs):
            super().save_instance(instance, is_create, row, **kwargs)

    def after_init_instance(self, instance, new, row, **kwargs):
        self._last_instance = instance

    def after_import_row(self, row, row_result, **kwargs):
        # Only reached for rows without errors.
        self.instances.append((self._row_number, self._last_instance))
        if self.progress and self._row_number % 500 == 0:
            self.progress(self._row_number)

    def get_bulk_update_fields(self):
        return [*FIGURE_FIELDS, "updated_at"]

    def after_import(self, dataset, result, **kwargs):
        # import-export resets the id sequence here, as loaddata does. Ids are never imported,
        # and on PostgreSQL a reset while another import inserts would make their ids collide.
        pass


def _show(value):
    if isinstance(value, Decimal):
        return format_decimal(value)
    return value
