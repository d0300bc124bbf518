"""The django-import-export Resource of observations, for export only.

Importing is plain code (validating.py and importing.py): reading, checking and writing
rows in one pass needs none of the library's import hooks."""

from import_export import resources
from import_export.fields import Field

from stats.exchange.common import (
    EXPORT_COLUMNS,
)
from stats.models import (
    Observation,
)
from stats.store.formatting import format_decimal
from stats.store.periods import format_period

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
