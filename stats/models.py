"""The statistics store: what is counted (Metric), where (Jurisdiction), by whom (Source),
and each published value (Observation)."""

from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from wagtail.models import RevisionMixin
from wagtail.search import index

from .formatting import format_decimal
from .periods import PeriodError, check_period_range, describe_period, format_period

# States, the District of Columbia and the territories: what a national rank counts.
RANKED_JURISDICTIONS = 56


class Jurisdiction(RevisionMixin, index.Indexed, models.Model):
    class Kind(models.TextChoices):
        NATION = "nation", "Nation"
        STATE = "state", "State"
        FEDERAL_DISTRICT = "district", "Federal judicial district"
        HHS_REGION = "hhs_region", "HHS region"

    code = models.CharField(
        max_length=16,
        unique=True,
        help_text="Short code used in spreadsheets: US, a state's postal code, a district, HHS7.",
    )
    name = models.CharField(max_length=120)
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


class Source(RevisionMixin, index.Indexed, models.Model):
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
    published_on = models.DateField(null=True, blank=True)
    data_as_of = models.DateField("data as of", null=True, blank=True)
    coverage = models.CharField(
        max_length=120, blank=True, help_text="The period the edition covers, as published."
    )
    methodology = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    caveat = models.TextField(
        blank=True,
        help_text="What the figures are not, in the source's own words (a sentence or two). "
        "Shown with every figure from this edition, wherever it appears.",
    )

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


class Dimension(models.Model):
    """What a metric may be broken down by: type of trafficking, channel, gender..."""

    slug = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=120)

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label


class Category(models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(max_length=80)
    label = models.CharField(max_length=160)
    sort_order = models.PositiveSmallIntegerField(default=0)
    note = models.TextField(blank=True, help_text="What the category counts, as published.")

    class Meta:
        ordering = ["dimension", "sort_order", "label"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["dimension", "slug"], name="unique_category_slug"),
        ]

    def __str__(self):
        return self.label


class Metric(RevisionMixin, index.Indexed, models.Model):
    class Unit(models.TextChoices):
        COUNT = "count", "Count"
        PERCENT = "percent", "Percent"
        MONTHS = "months", "Months"
        RANK = "rank", "Rank"

    slug = models.SlugField(max_length=80, unique=True, help_text="Used in spreadsheets.")
    label = models.CharField(max_length=200)
    definition = models.TextField(
        blank=True, help_text="What the figure counts and what it does not count."
    )
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


def _decimal_places(value):
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def validate_figures(unit, value, numerator=None, denominator=None, rank=None):
    """Check one observation's numbers against its metric's unit.

    Returns {field name: message}; empty when the figures are valid. Used by the model's
    clean() and by the spreadsheet import, so both speak with the same words.
    """
    errors = {}
    Unit = Metric.Unit
    if value is None:
        return {"value": "A value is required."}
    if unit == Unit.COUNT:
        if value < 0:
            errors["value"] = f"A count cannot be negative (got {value})."
        elif value != value.to_integral_value():
            errors["value"] = f"A count must be a whole number (got {value})."
    elif unit == Unit.PERCENT:
        if not Decimal(0) <= value <= Decimal(100):
            errors["value"] = f"A percent must lie between 0 and 100 (got {value})."
    elif unit == Unit.MONTHS:
        if value < 0:
            errors["value"] = f"A number of months cannot be negative (got {value})."
    elif unit == Unit.RANK:
        if value != value.to_integral_value() or not 1 <= value <= RANKED_JURISDICTIONS:
            errors["value"] = (
                f"A rank must be a whole number from 1 to {RANKED_JURISDICTIONS} (got {value})."
            )
    for name, number in (("numerator", numerator), ("denominator", denominator)):
        if number is not None and (number < 0 or number != number.to_integral_value()):
            errors[name] = f"The {name} must be a whole number, not negative (got {number})."
    if numerator is not None and denominator is not None and "numerator" not in errors:
        if numerator > denominator:
            errors["numerator"] = (
                f"The numerator ({numerator}) cannot be above the denominator ({denominator})."
            )
        elif unit == Unit.PERCENT and denominator > 0 and "value" not in errors:
            places = _decimal_places(value)
            exact = numerator * 100 / denominator
            rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
            if rounded != value:
                errors["value"] = (
                    f"{format_decimal(value)}% does not agree with {format_decimal(numerator)} of "
                    f"{format_decimal(denominator)} ({rounded}% at the published rounding)."
                )
        elif unit == Unit.COUNT and "value" not in errors and value != numerator:
            errors["value"] = (
                f"For a count written as 'n of m' the value must equal the numerator "
                f"({value} is not {numerator})."
            )
    elif (numerator is None) != (denominator is None):
        missing = "denominator" if denominator is None else "numerator"
        errors[missing] = (
            f"Give both a numerator and a denominator, or neither ({missing} is empty)."
        )
    if rank is not None and not 1 <= rank <= RANKED_JURISDICTIONS:
        errors["rank"] = f"A national rank lies between 1 and {RANKED_JURISDICTIONS} (got {rank})."
    return errors


# Newer editions first; an edition with no publication date counts as older on every
# database (PostgreSQL and SQLite sort empty values differently by default).
NEWEST_EDITION_FIRST = (
    models.F("source__edition_year").desc(),
    models.F("source__published_on").desc(nulls_last=True),
    models.F("source_id").desc(),
)


class ObservationQuerySet(models.QuerySet):
    KEY = ("metric_id", "jurisdiction_id", "period_start", "period_end", "breakdown_id")

    def for_display(self):
        return self.select_related("metric", "jurisdiction", "source", "breakdown")

    def current(self):
        """The newest edition's value for each metric, jurisdiction, period and breakdown.

        Returns a list of observations, each with `.replaced`: the values of older editions
        it restates, newest first. One query, whatever the size of the selection.
        """
        rows = self.for_display().order_by(*self.KEY, *NEWEST_EDITION_FIRST)
        current = []
        for _key, group in groupby(rows, key=lambda o: o.key):
            newest, *older = group
            newest.replaced = older
            current.append(newest)
        return current


class Observation(RevisionMixin, models.Model):
    """One published value, from one source edition."""

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
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="observations")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ObservationQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "jurisdiction", "period_start", "breakdown"]
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
        indexes = [models.Index(fields=["metric", "jurisdiction", "period_start"])]
        permissions = [("import_observation", "Can import figures from spreadsheets")]

    def __str__(self):
        parts = [str(self.metric), str(self.jurisdiction), self.period_label]
        if self.breakdown_id:
            parts.append(str(self.breakdown))
        return ", ".join(parts)

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
        from .formatting import format_observation

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
        PREVIEWED = "previewed", "Previewed, not confirmed"
        IMPORTED = "imported", "Imported"
        REJECTED = "rejected", "Rejected"

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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()}, {self.created_at:%Y-%m-%d %H:%M})"
