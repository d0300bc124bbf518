"""What staff see when they look for statistics in the admin: word searches, the jurisdiction
and metric choosers, and the observation form.

Searches run on the database (not Wagtail's search index, which holds no jurisdictions: they
are loaded by a migration), so a state's name, its code and "active criminal <state name>
2019" find what they name.
"""

import re
from collections import defaultdict
from functools import reduce
from operator import and_, or_

from django import forms
from django.db.models import Case, IntegerField, Max, Min, Q, Value, When
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.chooser import (
    ChooseResultsView,
    ChooseView,
    SnippetChooserViewSet,
)

from stats.models import FIGURES, Jurisdiction, Metric, Observation
from stats.store.formatting import format_decimal

YEAR = re.compile(r"^(19|20)\d\d$")


def word_search(queryset, text, fields, code_fields=(), year_fields=None):
    """Rows matching every word of `text`.

    A word matches when one of `fields` contains it, one of `code_fields` equals it (codes
    such as "VT" are matched whole, so "VT" does not find "VTX"), or, for a year such as
    "2019" when `year_fields` (start, end) is given, when the period includes that year.
    """
    words = text.split()
    if not words:
        return queryset
    conditions = []
    for word in words:
        q = reduce(or_, (Q(**{f"{f}__iexact": word}) for f in code_fields), Q())
        if year_fields and YEAR.match(word):
            start, end = year_fields
            q |= Q(**{f"{start}__year__lte": int(word), f"{end}__year__gte": int(word)})
        elif len(word) > 2 or not code_fields:
            q = reduce(or_, (Q(**{f"{f}__icontains": word}) for f in fields), q)
        conditions.append(q)
    return queryset.filter(reduce(and_, conditions))


JURISDICTION_SEARCH = {"fields": ["name"], "code_fields": ["code"]}
METRIC_SEARCH = {"fields": ["label", "slug", "definition"]}
OBSERVATION_SEARCH = {
    "fields": [
        "metric__label",
        "metric__slug",
        "jurisdiction__name",
        "breakdown__label",
        "source__slug",
        "source__title",
        "source__publisher",
        "footnote",
    ],
    "code_fields": ["jurisdiction__code"],
    "year_fields": ("period_start", "period_end"),
}


class WordSearchMixin:
    """For an admin listing (IndexView): search with `word_search` and the given options."""

    word_search_options = {}

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return word_search(queryset, self.search_query, **self.word_search_options)


def site_state_code(request):
    """The code of the state the request's site serves, or "" when no app says.

    The app that keeps each site's settings answers through the Wagtail hook
    "site_jurisdiction" (a function of the request returning a Jurisdiction or None), so
    the store never imports the pages above it.
    """
    for answer in hooks.get_hooks("site_jurisdiction"):
        jurisdiction = answer(request)
        if jurisdiction is not None:
            return jurisdiction.code
    return ""


# --- Choosers -------------------------------------------------------------------------------


class SearchForm(BaseFilterForm):
    """The chooser's search box, searched with `word_search`."""

    search_options = {}

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Name or code"}),
    )

    def filter(self, objects):
        objects = super().filter(objects)
        text = (self.cleaned_data.get("q") or "").strip()
        if text:
            objects = word_search(objects, text, **self.search_options)
            self.is_searching = True
            self.search_query = text
        return objects


class JurisdictionSearchForm(SearchForm):
    search_options = JURISDICTION_SEARCH

    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "All kinds"), *Jurisdiction.Kind.choices],
        widget=forms.Select(attrs={"data-chooser-modal-search-filter": True}),
    )

    def filter(self, objects):
        objects = super().filter(objects)
        if self.cleaned_data.get("kind"):
            objects = objects.filter(kind=self.cleaned_data["kind"])
        return objects


class JurisdictionChooserMixin:
    filter_form_class = JurisdictionSearchForm

    def get_object_list(self):
        """The site's state first, then its districts, the nation, the other states, the
        districts and regions; each group by name."""
        state = site_state_code(self.request)
        K = Jurisdiction.Kind
        group = Case(
            When(code=state, then=Value(0)),
            When(parent__code=state, then=Value(1)),
            When(kind=K.NATION, then=Value(2)),
            When(kind=K.STATE, then=Value(3)),
            default=Value(4),
            output_field=IntegerField(),
        )
        return Jurisdiction.objects.annotate(group=group).order_by("group", "kind", "name")

    @property
    def columns(self):
        return [
            *super().columns,
            Column("code", label="Code"),
            Column("kind", label="Kind", accessor=lambda j: j.get_kind_display()),
        ]


class JurisdictionChooseView(JurisdictionChooserMixin, ChooseView):
    pass


class JurisdictionChooseResultsView(JurisdictionChooserMixin, ChooseResultsView):
    pass


class JurisdictionChooserViewSet(SnippetChooserViewSet):
    choose_view_class = JurisdictionChooseView
    choose_results_view_class = JurisdictionChooseResultsView


def metric_coverage(metric_ids, listed=4):
    """For each metric: its sources, years and places with data, from ONE query.

    Returns {metric id: {"sources": "a, b", "years": "2010-2019", "places": "AL, US"}}.
    """
    rows = (
        Observation.objects.filter(metric_id__in=metric_ids)
        .values("metric_id", "jurisdiction__code", "source__slug")
        .annotate(first=Min("period_start"), last=Max("period_end"))
        .order_by()
    )
    found = defaultdict(lambda: {"sources": set(), "places": set(), "first": None, "last": None})
    for row in rows:
        seen = found[row["metric_id"]]
        seen["sources"].add(row["source__slug"])
        seen["places"].add(row["jurisdiction__code"])
        seen["first"] = min(filter(None, (seen["first"], row["first"].year)))
        seen["last"] = max(filter(None, (seen["last"], row["last"].year)))
    coverage = {}
    for metric_id, seen in found.items():
        places = sorted(seen["places"])
        more = len(places) - listed
        first, last = seen["first"], seen["last"]
        coverage[metric_id] = {
            "sources": ", ".join(sorted(seen["sources"])),
            "years": str(first) if first == last else f"{first}\u2013{last}",
            "places": ", ".join(places[:listed]) + (f" and {more} more" if more > 0 else ""),
        }
    return coverage


class MetricSearchForm(SearchForm):
    search_options = METRIC_SEARCH

    unit = forms.ChoiceField(
        label="Unit",
        required=False,
        choices=[("", "All units"), *Metric.Unit.choices],
        widget=forms.Select(attrs={"data-chooser-modal-search-filter": True}),
    )

    def filter(self, objects):
        objects = super().filter(objects)
        if self.cleaned_data.get("unit"):
            objects = objects.filter(unit=self.cleaned_data["unit"])
        return objects


class MetricChooserMixin:
    """Each metric with its unit, and the sources, years and places that have data."""

    filter_form_class = MetricSearchForm
    no_data = "No data yet"

    def get_results_page(self, request):
        page = super().get_results_page(request)
        self.coverage = metric_coverage([m.pk for m in page.object_list])
        return page

    def covered(self, what):
        return lambda metric: self.coverage.get(metric.pk, {}).get(what, self.no_data)

    @property
    def columns(self):
        return [
            *super().columns,
            Column("unit", label="Unit", accessor=lambda m: m.get_unit_display()),
            Column("sources", label="Sources with data", accessor=self.covered("sources")),
            Column("years", label="Years", accessor=self.covered("years")),
            Column("places", label="Places", accessor=self.covered("places")),
        ]


class MetricChooseView(MetricChooserMixin, ChooseView):
    pass


class MetricChooseResultsView(MetricChooserMixin, ChooseResultsView):
    pass


class MetricChooserViewSet(SnippetChooserViewSet):
    choose_view_class = MetricChooseView
    choose_results_view_class = MetricChooseResultsView


# --- The observation form -------------------------------------------------------------------


class ObservationForm(WagtailAdminModelForm):
    """Shows stored numbers as written: a count of 5 as "5", not "5.0000"."""

    PLAIN = ("value", "numerator", "denominator")

    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the figure changes: shown in the public revisions log. "
        "Required when a published figure changes.",
    )

    def clean(self):
        cleaned = super().clean()
        published = self.instance.pk and self.instance.is_current
        changed = any(name in self.changed_data for name in FIGURES)
        if published and changed and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Say why this published figure changes.")
        return cleaned

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.PLAIN:
            number = self.initial.get(name)
            if number is not None and name in self.fields:
                self.initial[name] = format_decimal(number)
