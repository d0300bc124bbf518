"""Filters of the Statistics listings in the Wagtail admin."""

import django_filters
from django.db.models import Q
from wagtail.admin.filters import WagtailFilterSet

from stats.models import Category, ImportRecord, Jurisdiction, Metric, Observation, Source


class ObservationFilterSet(WagtailFilterSet):
    metric = django_filters.ModelChoiceFilter(queryset=Metric.objects.all())
    jurisdiction = django_filters.ModelChoiceFilter(queryset=Jurisdiction.objects.all())
    year = django_filters.NumberFilter(
        label="Year", method="filter_year", help_text="Periods that include this year."
    )
    source = django_filters.ModelChoiceFilter(queryset=Source.objects.all())
    breakdown = django_filters.ModelChoiceFilter(
        queryset=Category.objects.select_related("dimension"),
        null_label="Total (no breakdown)",
    )

    class Meta:
        model = Observation
        fields = ["metric", "jurisdiction", "year", "source", "breakdown"]

    def filter_year(self, queryset, name, value):
        if value in (None, ""):
            return queryset
        year = int(value)
        return queryset.filter(Q(period_start__year__lte=year) & Q(period_end__year__gte=year))


class MetricFilterSet(WagtailFilterSet):
    class Meta:
        model = Metric
        fields = ["unit", "dimension", "sources"]


class SourceFilterSet(WagtailFilterSet):
    class Meta:
        model = Source
        fields = ["publisher", "edition_year"]


class JurisdictionFilterSet(WagtailFilterSet):
    class Meta:
        model = Jurisdiction
        fields = ["kind", "is_territory"]


class ImportRecordFilterSet(WagtailFilterSet):
    class Meta:
        model = ImportRecord
        fields = ["status", "user"]
