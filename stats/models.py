"""The statistics store: what is counted (Metric), where (Jurisdiction), by whom (Source),
and each published value (Observation)."""

import copy as copy_module
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.models import RevisionMixin
from wagtail.search import index

from stats.signals import figures_changed
from stats.store.formatting import format_decimal, format_observation
from stats.store.periods import PeriodError, check_period_range, describe_period, format_period

# States, the District of Columbia and the territories: what a national rank counts.
RANKED_JURISDICTIONS = 56

SPANISH_HELP = "Shown on the Spanish pages; empty: the English text is shown."
QUOTED_HELP = (
    "A Spanish rendering of the English text, shown beside it on the Spanish pages (the "
    "English, quoted from the source, stays). Empty: the English alone."
)


class TranslatedText:
    """Visitor-facing text kept in each language: `label` in English and `label_es` beside it.

    `translated("label")` is the text in the active language, or the English when the other
    language's field is empty. Staff edit both in the admin; the catalog loads both.
    """

    def translated(self, field):
        return self.rendering(field) or getattr(self, field)

    def rendering(self, field):
        """The text of `field` in the active language when that is not English, else "".

        For text quoted from an English source, which stays beside its rendering."""
        language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
        if language == settings.LANGUAGE_CODE.split("-")[0]:
            return ""
        return getattr(self, f"{field}_{language}", "")


class Jurisdiction(TranslatedText, RevisionMixin, index.Indexed, models.Model):
    class Kind(models.TextChoices):
        NATION = "nation", _("Nation")
        STATE = "state", _("State")
        FEDERAL_DISTRICT = "district", _("Federal judicial district")
        HHS_REGION = "hhs_region", _("HHS region")

    code = models.CharField(
        max_length=16,
        unique=True,
        help_text="Short code used in spreadsheets: US, a state's postal code, a district, HHS7.",
    )
    name = models.CharField(max_length=120)
    name_es = models.CharField(
        "name in Spanish", max_length=120, blank=True, help_text=SPANISH_HELP
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_territory = models.BooleanField(
        default=False, help_text="A territory or the District of Columbia rather than a state."
    )

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("kind"),
        index.SearchField("code"),
    ]

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    @property
    def display_name(self):
        return self.translated("name")


class Source(TranslatedText, RevisionMixin, index.Indexed, models.Model):
    """One published edition of one publication."""

    slug = models.SlugField(
        max_length=80, unique=True, help_text="Edition slug used in spreadsheets: hti-fhtr-2019."
    )
    publisher = models.CharField(max_length=200)
    title = models.CharField(max_length=255, help_text="The publication's title.")
    edition = models.CharField(
        max_length=80, help_text='How the publisher names this edition, e.g. "2019 edition".'
    )
    edition_year = models.PositiveSmallIntegerField(
        help_text="Orders editions: a later edition's value replaces an earlier one's."
    )
    url = models.URLField("URL", blank=True, help_text="Leave empty rather than guess.")
    license_url = models.URLField(
        "licence URL",
        blank=True,
        help_text="The licence under which the edition itself says its figures may be reused "
        "(the address of that licence). Leave empty where the edition states none: the portal "
        "then publishes no licence for its figures.",
    )
    published_on = models.DateField(null=True, blank=True)
    data_as_of = models.DateField("data as of", null=True, blank=True)
    coverage = models.CharField(
        max_length=120, blank=True, help_text="The period the edition covers, as published."
    )
    methodology = models.TextField(blank=True)
    methodology_es = models.TextField("methodology in Spanish", blank=True, help_text=QUOTED_HELP)
    limitations = models.TextField(blank=True)
    limitations_es = models.TextField("limitations in Spanish", blank=True, help_text=QUOTED_HELP)
    caveat = models.TextField(
        blank=True,
        help_text="What the figures are not, in the source's own words (a sentence or two). "
        "Shown with every figure from this edition, wherever it appears.",
    )
    caveat_es = models.TextField("caveat in Spanish", blank=True, help_text=QUOTED_HELP)

    search_fields = [
        index.SearchField("title"),
        index.AutocompleteField("title"),
        index.SearchField("publisher"),
        index.SearchField("slug"),
    ]

    class Meta:
        ordering = ["-edition_year", "publisher", "title"]

    def __str__(self):
        return f"{self.publisher}, {self.title} ({self.edition})"

    @property
    def citation(self):
        return f"{self.publisher}, {self.title}, {self.edition}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_order = instance._edition_order()
        return instance

    def _edition_order(self):
        """What decides whether this edition is newer than another (see NEWEST_EDITION_FIRST)."""
        return tuple(self.__dict__.get(f) for f in ("edition_year", "published_on"))

    @property
    def renderings(self):
        """The rendering of each quoted text in the active language ("" in English), for a
        template: `source.renderings.methodology`."""
        return {name: self.rendering(name) for name in StateSourceText.RENDERINGS}

    def for_state(self, words):
        """This edition as cited on one state's site: a copy with that state's words (a
        StateSourceText) in place of the shared ones; the edition's facts stay shared. A
        Spanish rendering goes with the English it renders: the state's English text comes
        with the state's rendering (or none), never with the shared text's."""
        if words is None:
            return self
        copy = copy_module.copy(self)
        for name in StateSourceText.WORDS:
            if getattr(words, name):
                setattr(copy, name, getattr(words, name))
                for rendering in StateSourceText.RENDERINGS.get(name, ()):
                    setattr(copy, rendering, getattr(words, rendering))
        return copy


class StateSourceText(models.Model):
    """What one state's summary of a shared source edition says in its own words.

    A report edition is one source shared by every state (its publisher, edition, coverage,
    dates and figures); the title of the state summary a state's figures were read from and the
    caveats that name the state belong to that state. A state site cites its own words.
    """

    WORDS = ("title", "methodology", "limitations", "caveat")
    # The Spanish rendering of each of them (a title stays as published).
    RENDERINGS = {name: (f"{name}_es",) for name in ("methodology", "limitations", "caveat")}

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="state_texts")
    jurisdiction = models.ForeignKey(
        "Jurisdiction", on_delete=models.CASCADE, related_name="source_texts"
    )
    title = models.CharField(max_length=255, help_text="The state summary's title.")
    methodology = models.TextField(blank=True)
    methodology_es = models.TextField("methodology in Spanish", blank=True, help_text=QUOTED_HELP)
    limitations = models.TextField(blank=True)
    limitations_es = models.TextField("limitations in Spanish", blank=True, help_text=QUOTED_HELP)
    caveat = models.TextField(blank=True)
    caveat_es = models.TextField("caveat in Spanish", blank=True, help_text=QUOTED_HELP)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "jurisdiction"], name="one_source_text_per_state"
            )
        ]
        verbose_name = "source text for a state"

    def __str__(self):
        return f"{self.source.slug} ({self.jurisdiction_id}): {self.title}"


class Dimension(TranslatedText, models.Model):
    """What a metric may be broken down by: type of trafficking, channel, gender..."""

    slug = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=120)
    label_es = models.CharField(
        "label in Spanish", max_length=120, blank=True, help_text=SPANISH_HELP
    )

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label

    @property
    def display_label(self):
        return self.translated("label")


class Category(TranslatedText, models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(max_length=80)
    label = models.CharField(max_length=160)
    label_es = models.CharField(
        "label in Spanish", max_length=160, blank=True, help_text=SPANISH_HELP
    )
    sort_order = models.PositiveSmallIntegerField(default=0)
    note = models.TextField(blank=True, help_text="What the category counts, as published.")
    note_es = models.TextField(
        "note in Spanish",
        blank=True,
        help_text="A translation of the published note, shown on the Spanish pages.",
    )

    class Meta:
        ordering = ["dimension", "sort_order", "label"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["dimension", "slug"], name="unique_category_slug"),
        ]

    def __str__(self):
        return self.label

    @property
    def display_label(self):
        return self.translated("label")

    @property
    def display_note(self):
        return self.translated("note")


class Metric(TranslatedText, RevisionMixin, index.Indexed, models.Model):
    class Unit(models.TextChoices):
        COUNT = "count", _("Count")
        PERCENT = "percent", _("Percent")
        MONTHS = "months", _("Months")
        RANK = "rank", _("Rank")

    slug = models.SlugField(max_length=80, unique=True, help_text="Used in spreadsheets.")
    label = models.CharField(max_length=200)
    label_es = models.CharField(
        "label in Spanish", max_length=200, blank=True, help_text=SPANISH_HELP
    )
    definition = models.TextField(
        blank=True, help_text="What the figure counts and what it does not count."
    )
    definition_es = models.TextField("definition in Spanish", blank=True, help_text=SPANISH_HELP)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.COUNT)
    dimension = models.ForeignKey(
        Dimension,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="metrics",
        help_text="What the figure may be broken down by, if anything.",
    )
    sources = models.ManyToManyField(
        Source, blank=True, related_name="metrics", help_text="Publications that report it."
    )

    search_fields = [
        index.SearchField("label"),
        index.AutocompleteField("label"),
        index.SearchField("slug"),
        index.SearchField("definition"),
    ]

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label

    @property
    def display_label(self):
        return self.translated("label")

    @property
    def display_definition(self):
        return self.translated("definition")


def _decimal_places(value):
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def rank_error(number):
    """The one rank rule (a rank value, or the rank column): its message, or "" if valid."""
    number = Decimal(number)
    if number == number.to_integral_value() and 1 <= number <= RANKED_JURISDICTIONS:
        return ""
    return f"A rank must be a whole number from 1 to {RANKED_JURISDICTIONS} (got {number})."


def _value_error(unit, value):
    """What is wrong with a value for its unit, or None."""
    Unit = Metric.Unit
    if unit == Unit.COUNT:
        if value < 0:
            return f"A count cannot be negative (got {value})."
        if value != value.to_integral_value():
            return f"A count must be a whole number (got {value})."
    elif unit == Unit.PERCENT:
        if not Decimal(0) <= value <= Decimal(100):
            return f"A percent must lie between 0 and 100 (got {value})."
    elif unit == Unit.MONTHS:
        if value < 0:
            return f"A number of months cannot be negative (got {value})."
    elif unit == Unit.RANK:
        return rank_error(value) or None
    return None


def _n_of_m_errors(unit, value, numerator, denominator, errors):
    """Add to `errors` what is wrong with a value written as "n of m"; both are given and
    whole."""
    if numerator > denominator:
        errors["numerator"] = (
            f"The numerator ({numerator}) cannot be above the denominator ({denominator})."
        )
    elif unit == Metric.Unit.PERCENT and denominator > 0 and "value" not in errors:
        places = _decimal_places(value)
        exact = numerator * 100 / denominator
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if rounded != value:
            errors["value"] = (
                f"{format_decimal(value)}% does not agree with {format_decimal(numerator)} of "
                f"{format_decimal(denominator)} ({rounded}% at the published rounding)."
            )
    elif unit == Metric.Unit.COUNT and "value" not in errors and value != numerator:
        errors["value"] = (
            f"For a count written as 'n of m' the value must equal the numerator "
            f"({value} is not {numerator})."
        )


def validate_figures(unit, value, numerator=None, denominator=None, rank=None):
    """Check one observation's numbers against its metric's unit.

    Returns {field name: message}; empty when the figures are valid. Used by the model's
    clean() and by the spreadsheet import, so both speak with the same words.
    """
    if value is None:
        return {"value": "A value is required."}
    errors = {}
    if message := _value_error(unit, value):
        errors["value"] = message
    for name, number in (("numerator", numerator), ("denominator", denominator)):
        if number is not None and (number < 0 or number != number.to_integral_value()):
            errors[name] = f"The {name} must be a whole number, not negative (got {number})."
    if numerator is not None and denominator is not None:
        if "numerator" not in errors:
            _n_of_m_errors(unit, value, numerator, denominator, errors)
    elif (numerator is None) != (denominator is None):
        missing = "denominator" if denominator is None else "numerator"
        errors[missing] = (
            f"Give both a numerator and a denominator, or neither ({missing} is empty)."
        )
    if rank is not None and (message := rank_error(rank)):
        errors["rank"] = message
    return errors


# Newer editions first; an edition with no publication date counts as older on every
# database (PostgreSQL and SQLite sort empty values differently by default).
NEWEST_EDITION_FIRST = (
    models.F("source__edition_year").desc(),
    models.F("source__published_on").desc(nulls_last=True),
    models.F("source_id").desc(),
)


def newest_edition(source):
    """Sort key of an edition: the largest is the newest (see NEWEST_EDITION_FIRST)."""
    edition_year, published_on, source_id = source
    return (edition_year, published_on is not None, published_on or date.min, source_id)


class ObservationQuerySet(models.QuerySet):
    KEY = ("metric_id", "jurisdiction_id", "period_start", "period_end", "breakdown_id")

    def for_display(self):
        return self.select_related("metric", "jurisdiction", "source", "breakdown")

    def by_key(self):
        """In key order; within a key the current value first, then older editions, newest
        first. The order of the API, the downloads and the pages."""
        return self.order_by(*self.KEY, "-is_current", *NEWEST_EDITION_FIRST)

    def current(self):
        """The newest edition's value for each metric, jurisdiction, period and breakdown: a
        queryset of the rows whose `is_current` flag is set (kept by refresh_current). What
        each replaced is one more query for the rows fetched: attach_replaced(rows)."""
        # One current row per key: the key orders them, as the partial index does; the id (the
        # index's last column) keeps the order total, read forwards or backwards.
        return self.filter(is_current=True).for_display().order_by(*self.KEY, "id")


def attach_replaced(observations):
    """Set `.replaced` on each observation (a list, already fetched) and return the list: for
    a current one, the older editions' values of its key, newest first; for any other, []. One
    query for all of them, bounded by the metrics, places and periods of the observations
    given, not by the size of the table. (A queryset method cannot do this on fetch without
    Django's private _fetch_all; `.replaced` is no relation that Prefetch could follow.)"""
    current = [o for o in observations if o.is_current]
    for o in observations:
        o.replaced = []
    if not current:
        return observations
    by_key = {o.key: o for o in current}
    older = (
        Observation.objects.filter(
            is_current=False,
            metric_id__in={o.metric_id for o in current},
            jurisdiction_id__in={o.jurisdiction_id for o in current},
            period_start__in={o.period_start for o in current},
        )
        # With what a page shows of a figure: an older edition may be the one a block shows
        # (a key figure of one report), and must not cost a query of its own per block.
        .for_display()
        .order_by(*NEWEST_EDITION_FIRST)
    )
    for o in older:
        newer = by_key.get(o.key)
        if newer is not None:
            newer.replaced.append(o)
    return observations


REFRESH_BATCH = 500


def refresh_current(keys):
    """Recompute `Observation.is_current` for exactly these keys (tuples in
    ObservationQuerySet.KEY order): true for the newest edition of each key, false for the
    others. Runs one query per batch of 500 keys to read, and at most two updates per batch
    (only rows whose flag changes are written). Call it inside the writing transaction."""
    keys = sorted(set(keys), key=lambda k: tuple((v is None, v) for v in k))
    for start in range(0, len(keys), REFRESH_BATCH):
        batch = set(keys[start : start + REFRESH_BATCH])
        rows = Observation.objects.filter(
            metric_id__in={k[0] for k in batch},
            jurisdiction_id__in={k[1] for k in batch},
            period_start__in={k[2] for k in batch},
        ).values_list(
            "pk",
            *ObservationQuerySet.KEY,
            "is_current",
            "source__edition_year",
            "source__published_on",
            "source_id",
        )
        groups = {}
        for pk, *rest in rows:
            key, flag, edition = tuple(rest[:5]), rest[5], tuple(rest[6:])
            if key in batch:
                groups.setdefault(key, []).append((edition, pk, flag))
        to_set, to_clear = [], []
        for group in groups.values():
            newest = max(group, key=lambda row: newest_edition(row[0]))
            for row in group:
                should = row is newest
                if should != row[2]:
                    (to_set if should else to_clear).append(row[1])
        for flag, pks in ((False, to_clear), (True, to_set)):
            for i in range(0, len(pks), 900):
                Observation.objects.filter(pk__in=pks[i : i + 900]).update(is_current=flag)


# An observation's figures and notes: what an import compares and its history records.
FIGURES = ("value", "numerator", "denominator", "rank", "footnote", "footnote_es")


class Observation(TranslatedText, models.Model):
    """One published value, from one source edition. Its history is ObservationChange (not
    Wagtail revisions: a figure has one history)."""

    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="observations")
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="observations"
    )
    period_start = models.DateField(help_text="First day of the period.")
    period_end = models.DateField(help_text="Last day of the period.")
    breakdown = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="observations",
        help_text="The category of the metric's breakdown; empty for the total.",
    )
    value = models.DecimalField(max_digits=18, decimal_places=4)
    numerator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    rank = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The published national rank, as printed."
    )
    footnote = models.TextField(blank=True, help_text="Exclusions and caveats, as published.")
    footnote_es = models.TextField(
        "footnote in Spanish",
        blank=True,
        help_text="A Spanish rendering of the footnote, shown beside it on the Spanish pages.",
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="observations")
    updated_at = models.DateTimeField(auto_now=True)
    is_current = models.BooleanField(
        default=False,
        editable=False,
        help_text="Set for the newest edition's value of its figure (refresh_current).",
    )
    # The import that created the row (its creation in the figure's history; a revert of
    # that import removes it). Later changes are ObservationChange rows.
    created_by_import = models.ForeignKey(
        "ImportRecord",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="created_observations",
    )

    objects = ObservationQuerySet.as_manager()

    class Meta:
        # No default ordering: "metric", "jurisdiction" and "breakdown" sorted by the labels of
        # what they name, a join and a sort of every row read (the import's key lookups
        # included). A list orders itself by indexed columns: by_key(), current(), the admin's
        # default_ordering.
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "metric",
                    "jurisdiction",
                    "period_start",
                    "period_end",
                    "breakdown",
                    "source",
                ],
                name="unique_observation_per_edition",
            ),
            models.UniqueConstraint(
                fields=["metric", "jurisdiction", "period_start", "period_end", "source"],
                condition=Q(breakdown__isnull=True),
                name="unique_total_observation_per_edition",
            ),
        ]
        indexes = [
            # Every edition of a figure, in key order: history, refresh_current, replaced values.
            models.Index(fields=["metric", "jurisdiction", "period_start"]),
            # The current values in key order: pages, the API's pages, the downloads. The id
            # ends it so that the API finds a page's ids (and counts) from the index alone.
            models.Index(
                fields=["metric", "jurisdiction", "period_start", "period_end", "breakdown", "id"],
                condition=Q(is_current=True),
                name="observation_current_ids",
            ),
        ]
        permissions = [("import_observation", "Can import figures from spreadsheets")]

    def __str__(self):
        parts = [str(self.metric), str(self.jurisdiction), self.period_label]
        if self.breakdown_id:
            parts.append(str(self.breakdown))
        return ", ".join(parts)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_key = instance.key if instance._has_key_fields() else None
        return instance

    def _has_key_fields(self):
        return all(f in self.__dict__ for f in ObservationQuerySet.KEY)

    @property
    def key(self):
        return tuple(getattr(self, f) for f in ObservationQuerySet.KEY)

    @property
    def period(self):
        """The exchange format's period text: "2019" or "2012-12/2016-12"."""
        return format_period(self.period_start, self.period_end)

    @property
    def period_label(self):
        return describe_period(self.period_start, self.period_end)

    @property
    def display_value(self):
        """The value as readers see it: "92 months", "22% (2 of 9)"."""
        return format_observation(self)

    def clean(self):
        errors = {}
        if self.period_start and self.period_end:
            if self.period_end < self.period_start:
                errors["period_end"] = "The period ends before it starts."
            else:
                try:
                    check_period_range(self.period_start, self.period_end)
                except PeriodError as e:
                    errors["period_start"] = str(e)
        if self.metric_id:
            metric = self.metric
            if self.breakdown_id:
                if metric.dimension_id is None:
                    errors["breakdown"] = f'"{metric}" has no breakdown; leave it empty.'
                elif self.breakdown.dimension_id != metric.dimension_id:
                    errors["breakdown"] = (
                        f'"{self.breakdown}" is not a category of {metric.dimension} '
                        f'(the breakdown of "{metric}").'
                    )
            if self.value is not None:
                errors.update(
                    validate_figures(
                        metric.unit, self.value, self.numerator, self.denominator, self.rank
                    )
                )
        if errors:
            raise ValidationError(errors)


class ImportRecord(models.Model):
    """One spreadsheet import: kept between preview and confirm, and as a record after."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking the file"
        PREVIEWED = "previewed", "Previewed, not confirmed"
        QUEUED = "queued", "Confirmed, importing"
        SCHEDULED = "scheduled", "Confirmed, scheduled"
        IMPORTED = "imported", "Imported"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed, nothing was changed"
        REVERTED = "reverted", "Reverted"

    created_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)
    # Kept in the database, so a preview on one app server can be confirmed on another.
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    counts = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(
        default=list, blank=True, help_text="Each updated value: its key, old and new value."
    )
    imported_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(
        max_length=64, blank=True, help_text="What the preview was made from (the stale check)."
    )
    progress = models.PositiveIntegerField(default=0, help_text="Rows checked or written so far.")
    lease_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="While a worker checks or imports the file: when its lease ends unless renewed.",
    )
    message = models.TextField(blank=True, help_text="The latest word from the background task.")
    reason = models.TextField(
        blank=True,
        help_text="Why, as the data manager gave it on confirming: recorded on every change "
        "this import makes, and shown in the public revisions log.",
    )
    go_live_at = models.DateTimeField(
        "goes live at", null=True, blank=True, help_text="A scheduled release: when it applies."
    )
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The public release calendar: each announcement of this release, a move, a cancellation.
    release_events = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="[{event, at, go_live_at, reason}]: scheduled, moved or cancelled.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        when = timezone.localtime(self.created_at) if self.created_at else None
        return f"{self.file_name} ({self.get_status_display()}, {when:%Y-%m-%d %H:%M})"

    def note_release(self, event, go_live_at=None, reason=""):
        """Add a step of the release's schedule (saved with release_events by the caller)."""
        if event == "scheduled" and self.release_events:
            event = "moved"
        if go_live_at is None and self.release_events:  # a cancellation names its date
            go_live_at = self.release_events[-1]["go_live_at"]
        else:
            go_live_at = go_live_at.isoformat() if go_live_at else None
        self.release_events = [
            *self.release_events,
            {
                "event": event,
                "at": timezone.now().isoformat(),
                "go_live_at": go_live_at,
                "reason": reason,
            },
        ]

    @property
    def is_pending(self):
        return self.status in (self.Status.CHECKING, self.Status.QUEUED)


class ObservationChange(models.Model):
    """One change to one observation: by hand, by an import, by a revert or a restore.

    The one history of a figure, with its old and new values as exact text, and the figure's
    metric, place and period kept beside it so a withdrawal stays on the record. A row an
    import created has its creation in `Observation.created_by_import` (written once, not
    repeated here); `history_of` puts it first. Its value on any date, the public revisions
    log and every undo are derived from these rows."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Changed"
        DELETED = "deleted", "Deleted"

    class Via(models.TextChoices):
        IMPORT = "import", "Import"
        REVERT = "revert", "Revert of an import"
        EDIT = "edit", "Edit in the admin"
        RESTORE = "restore", "Restore of an earlier value"

    observation = models.ForeignKey(
        "Observation", null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    label = models.CharField(max_length=255, help_text="The figure, as named when changed.")
    action = models.CharField(max_length=8, choices=Action.choices)
    via = models.CharField(max_length=8, choices=Via.choices)
    old = models.JSONField(null=True, blank=True, help_text="The figures before.")
    new = models.JSONField(null=True, blank=True, help_text="The figures after.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    import_record = models.ForeignKey(
        ImportRecord,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="observation_changes",
    )
    reason = models.TextField(blank=True, help_text="Why, as the data manager gave it.")
    # The figure's identity, kept when the row itself is deleted (the public log, per site).
    metric = models.ForeignKey(
        Metric, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    breakdown = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["jurisdiction", "at"], name="change_place_at")]

    def __str__(self):
        return f"{self.label}: {self.get_action_display()} ({self.get_via_display()})"

    @classmethod
    def entry(cls, observation, action, via, *, old=None, new=None, keep=True, **fields):
        """The one constructor of a history entry (unsaved): the figure's identity is copied
        from the observation; keep=False records it without the link (a deletion)."""
        return cls(
            observation=observation if keep else None,
            label=fields.pop("label", None) or str(observation)[:255],
            action=action,
            via=via,
            old=old,
            new=new,
            metric_id=observation.metric_id,
            jurisdiction_id=observation.jurisdiction_id,
            period_start=observation.period_start,
            period_end=observation.period_end,
            breakdown_id=observation.breakdown_id,
            source_id=observation.source_id,
            **fields,
        )

    @property
    def identity(self):
        """The figure's key and edition (ObservationQuerySet.KEY and the source id)."""
        return (
            self.metric_id,
            self.jurisdiction_id,
            self.period_start,
            self.period_end,
            self.breakdown_id,
            self.source_id,
        )

    @property
    def kind(self):
        """What the change is to a reader: a correction, a withdrawal, a new figure."""
        if self.action == self.Action.DELETED:
            return "withdrawal"
        if self.action == self.Action.CREATED:
            return "new"
        return "revision" if self.via == self.Via.IMPORT else "correction"

    @property
    def differences(self):
        """[(field, old, new)] of the figures this change touched."""
        old, new = self.old or {}, self.new or {}
        return [
            (name, old.get(name, ""), new.get(name, ""))
            for name in FIGURES
            if old.get(name, "") != new.get(name, "")
        ]


class VersionCounter(models.Model):
    """A version kept in the database: one row whose `value` every change of its source
    increments in the writer's own transaction, so it rolls back with the change. Whatever is
    derived from the source is keyed by it, so a lost cache write or a restored cache snapshot
    can make a derived copy missing, never wrong. Reading it is one primary-key lookup."""

    SINGLETON = 1

    value = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self._meta.verbose_name} {self.value}"

    @classmethod
    def bump(cls, *also):
        """Increment `value` (and the other counters named in `also`) in the caller's
        transaction."""
        now = timezone.now()
        counters = ("value", *also)
        changes = {name: models.F(name) + 1 for name in counters}
        if not cls.objects.filter(pk=cls.SINGLETON).update(changed_at=now, **changes):
            cls.objects.get_or_create(
                pk=cls.SINGLETON, defaults={"changed_at": now, **dict.fromkeys(counters, 1)}
            )

    @classmethod
    def current(cls):
        """The version now (0 before the first change)."""
        value = cls.objects.filter(pk=cls.SINGLETON).values_list("value", flat=True).first()
        return value or 0


class DataVersion(VersionCounter):
    """The store's data version, bumped with every change of figures
    (stats.signals.announce_figures_changed)."""

    class Meta:
        verbose_name = "data version"


class DownloadFile(models.Model):
    """A full download (every current figure, or the full history, of one scope in one
    format) built as a file for one data version by a background task
    (stats/opendata/files.py). The request that finds it READY serves the stored file; any
    other status answers 503 and asks for the build."""

    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    NATIONAL = "all"

    scope = models.CharField(
        max_length=16, help_text='"all", or the code of the state whose figures it holds.'
    )
    fmt = models.CharField("format", max_length=8)
    history = models.BooleanField(default=False)
    version = models.BigIntegerField(help_text="The data version the file holds.")
    as_of = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The figures as they stood at this moment (the last step of their history "
        "then); empty for the figures now.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BUILDING)
    name = models.CharField(max_length=255, blank=True, help_text="Its name in the storage.")
    size = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "built download"
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "fmt", "history", "version"],
                condition=models.Q(as_of__isnull=True),
                name="stats_download_file_key",
            ),
            models.UniqueConstraint(
                fields=["scope", "fmt", "history", "version", "as_of"],
                condition=models.Q(as_of__isnull=False),
                name="stats_download_file_as_of_key",
            ),
        ]

    def __str__(self):
        kind = "history" if self.history else "current"
        then = f" as of {self.as_of.isoformat()}" if self.as_of else ""
        return f"{self.scope} {kind} {self.fmt}{then} at data version {self.version}"


class _Announcement:
    """The one `figures_changed` a transaction sends on commit, with every metric it touched."""

    def __init__(self):
        self.metric_ids = set()
        self.version = None
        self.sent = False

    def __call__(self):
        self.sent = True
        ids = None if self.metric_ids is None else frozenset(self.metric_ids)
        figures_changed.send(sender=DataVersion, metric_ids=ids, version=self.version)


def announce_figures_changed(metric_ids=None):
    """Bump the data version now, in the writer's transaction; send `figures_changed` once it
    commits (stats/signals.py), once per transaction level however many writes it holds. Every
    write path of figures calls this; `metric_ids=None` means any figure may have changed."""

    # Django offers no public way to see what a transaction has queued. One announcement per
    # transaction level: a rolled-back transaction or savepoint drops its callbacks, and with
    # them its announcement, so what survives is what will be sent.
    level = set(connection.savepoint_ids)
    queued = [
        f
        for sids, f, _robust in connection.run_on_commit
        if isinstance(f, _Announcement) and not f.sent and sids == level
    ]
    if queued:
        announcement = queued[0]
    else:
        announcement = _Announcement()
        transaction.on_commit(announcement)
    # Every write bumps: a reader in the same transaction sees the new version too.
    DataVersion.bump()
    announcement.version = DataVersion.current()
    if metric_ids is None or announcement.metric_ids is None:
        announcement.metric_ids = None
    else:
        announcement.metric_ids.update(metric_ids)
    return announcement.version


# Every save and delete of an observation, and a change of an edition's order, keeps the
# current flags true (bulk writes call refresh_current themselves).


@receiver(post_save, sender=Observation, dispatch_uid="stats.observation.current.save")
def _observation_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    keys = {instance.key}
    loaded = getattr(instance, "_loaded_key", None)
    if loaded is not None:
        keys.add(loaded)
    refresh_current(keys)
    instance._loaded_key = instance.key
    instance.refresh_from_db(fields=["is_current"])
    announce_figures_changed({instance.metric_id})


@receiver(post_delete, sender=Observation, dispatch_uid="stats.observation.current.delete")
def _observation_deleted(sender, instance, **kwargs):
    refresh_current([instance.key])
    announce_figures_changed({instance.metric_id})


@receiver(post_save, sender=Source, dispatch_uid="stats.source.current.save")
def _source_saved(sender, instance, created=False, raw=False, **kwargs):
    loaded = getattr(instance, "_loaded_order", None)
    if raw or created or loaded == instance._edition_order():
        return
    keys = (
        Observation.objects.filter(source=instance).values_list(*ObservationQuerySet.KEY).distinct()
    )
    refresh_current([tuple(k) for k in keys])
    instance._loaded_order = instance._edition_order()


def _catalog_changed(sender, raw=False, **kwargs):
    """A place's, metric's, category's or source's words are shown beside every figure."""
    if not raw:
        announce_figures_changed()


for _model in (Jurisdiction, Source, Dimension, Category, Metric):
    for _signal in (post_save, post_delete):
        _signal.connect(
            _catalog_changed, sender=_model, dispatch_uid=f"stats.{_model.__name__}.announce"
        )
