"""Reading a dataset's rows into a plan: what an import would create, change and leave alone.

Each column of a row is converted by its django-import-export widget (widgets.py), with the
names resolved from maps built by one query per referenced table for the names the file
uses. The stored figures are then read by the keys the rows name (values, not model
instances), and each row is sorted into new, updated or unchanged. Nothing is written here;
importing.write_plan applies a plan in one transaction.
"""

import hashlib
from collections import namedtuple
from dataclasses import dataclass, field

from django.db.models.functions import Upper
from import_export.fields import Field

from stats.exchange.common import (
    COLUMNS,
    EXPORT_ONLY_COLUMNS,
    FIGURE_FIELDS,
    KEY_COLUMNS,
    NUMBER_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    UNNAMED,
    _closest,
    clean_text,
    normalise_header,
)
from stats.exchange.widgets import (
    BreakdownWidget,
    FigureWidget,
    FootnoteWidget,
    JurisdictionWidget,
    MetricWidget,
    PeriodWidget,
    RankWidget,
    SourceWidget,
    cut,
    refuse_formula,
)
from stats.models import (
    Category,
    Jurisdiction,
    Metric,
    Observation,
    ObservationQuerySet,
    Source,
    validate_figures,
)
from stats.store.breakdowns import breakdown_warnings
from stats.store.formatting import format_decimal
from stats.store.periods import format_period

MAX_SUGGESTED_NAMES = 50  # distinct unknown names given a "did you mean"; then none
GROUPS_PER_QUERY = 500  # (metric, place, period, source) groups read by one query
# A stored row, as the import reads it: no model instance, no related object.
Stored = namedtuple("Stored", ["pk", "updated_at", *FIGURE_FIELDS])


def figure_values(observation):
    """An observation's figures as exact text, as the history and the preview show them."""
    return {name: figure_text(getattr(observation, name)) for name in FIGURE_FIELDS}


def figure_text(value):
    """One figure as exact text: "" for none, a decimal without exponent or trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return format_decimal(value)


@dataclass
class Planned:
    line: int  # the row's line in the file (the header is line 1)
    observation: Observation  # unsaved when new; with the file's values set otherwise
    key: tuple  # ObservationQuerySet.KEY and the source id
    changes: dict = field(default_factory=dict)  # {field: (old, new)} of a stored one


@dataclass
class Plan:
    new: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error_rows: int = 0
    total: int = 0
    # {key with source: (pk, updated_at)} of every stored row the file names: what the plan
    # was made from. The write compares it with the store under lock.
    versions: dict = field(default_factory=dict)
    rows: object = None  # the Rows maps, to name what the plan holds

    def name(self, planned):
        """The figure's name ("Metric, Place, 2019"), its related objects attached."""
        self.rows.attach(planned.observation)
        return str(planned.observation)

    @property
    def ok(self):
        return not self.errors

    @property
    def keys(self):
        """Every key the plan read or would create."""
        return set(self.versions) | {p.key for p in self.new}

    @property
    def digest(self):
        """A fingerprint of what the plan was made from and what it would do."""
        parts = sorted(
            f"{key}|{pk}|{stamp.isoformat() if stamp else ''}"
            for key, (pk, stamp) in self.versions.items()
        )
        parts += sorted(f"new|{p.key}" for p in self.new)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def check_columns(headers):
    """(errors, warnings) about the header row."""
    headers = list(headers or [])
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    errors = []
    if missing:
        errors.append(
            "Required column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f'"{c}"' for c in missing)
            + " missing from the header row. The columns are: "
            + ", ".join(COLUMNS)
            + "."
        )
    unknown = [h for h in headers if h not in COLUMNS and h not in EXPORT_ONLY_COLUMNS]
    warnings = [
        f"Column {h.removeprefix(UNNAMED)} has no header; it was ignored."
        if h.startswith(UNNAMED)
        else f'Column "{cut(h)}" is not part of the format and was ignored.'
        for h in unknown[:50]
    ]
    if len(unknown) > 50:
        warnings.append(f"{len(unknown) - 50:,} more columns are not part of the format.")
    return errors, warnings


def group_of(key):
    """(metric, place, period start, period end, source) of a key with source: a figure with
    each of its breakdowns."""
    return key[:4] + key[5:]


def read_stored(groups):
    """{key with source: Stored} of the stored rows of these groups, as tuples. Groups are
    read in key order, a chunk at a time, through the key index: each query asks for the
    chunk's metrics, places, periods and sources, and only the chunk's groups are kept."""
    groups = sorted(groups, key=str)
    found = {}
    for start in range(0, len(groups), GROUPS_PER_QUERY):
        chunk = set(groups[start : start + GROUPS_PER_QUERY])
        metrics, places, firsts, _lasts, sources = (
            set(parts) for parts in zip(*chunk, strict=True)
        )
        rows = Observation.objects.filter(
            metric_id__in=metrics,
            jurisdiction_id__in=places,
            period_start__in=firsts,
            source_id__in=sources,
        ).order_by()
        for values in rows.values_list(
            *ObservationQuerySet.KEY, "source_id", "pk", "updated_at", *FIGURE_FIELDS
        ):
            if group_of(values[:6]) in chunk:
                found[values[:6]] = Stored(*values[6:])
    return found


def stored_versions(keys):
    """{key with source: (pk, updated_at)} of the stored rows among keys."""
    stored = read_stored({group_of(key) for key in keys})
    return {key: (s.pk, s.updated_at) for key, s in stored.items() if key in keys}


def locked_versions(versions):
    """Lock the stored rows a plan read (by id) and return their versions as they are now."""
    by_pk = {pk: key for key, (pk, _stamp) in versions.items()}
    pks = list(by_pk)
    now = {}
    for start in range(0, len(pks), 2000):
        query = Observation.objects.select_for_update().filter(pk__in=pks[start : start + 2000])
        for pk, stamp in query.order_by().values_list("pk", "updated_at"):
            now[by_pk[pk]] = (pk, stamp)
    return now


class Suggestions:
    """' Did you mean ...?' once per distinct unknown name, for a bounded number of names."""

    def __init__(self):
        self.made = {}

    def __call__(self, kind, name, choices):
        key = (kind, name.lower())
        if key not in self.made:
            if len(self.made) >= MAX_SUGGESTED_NAMES:
                return ""
            self.made[key] = _closest(name, choices() if callable(choices) else choices)
        return self.made[key]


def _names_in(dataset, column):
    return {clean_text(v) for v in dataset[column]} if column in dataset.headers else set()


class Rows:
    """The maps and the column widgets one import converts its rows with."""

    def __init__(self, dataset):
        self.columns = set(dataset.headers or [])
        self.lines = getattr(dataset, "source_rows", None)
        codes = {code.upper() for code in _names_in(dataset, "jurisdiction")}
        places = Jurisdiction.objects.annotate(upper_code=Upper("code"))
        self.jurisdictions = {j.upper_code: j for j in places.filter(upper_code__in=codes)}
        slugs = {slug.lower() for slug in _names_in(dataset, "metric")}
        self.metrics = {m.slug: m for m in Metric.objects.filter(slug__in=slugs)}
        slugs = {slug.lower() for slug in _names_in(dataset, "source")}
        self.sources = {s.slug: s for s in Source.objects.filter(slug__in=slugs)}
        dimension_ids = {m.dimension_id for m in self.metrics.values() if m.dimension_id}
        self.categories = {}
        for category in Category.objects.filter(dimension_id__in=dimension_ids):
            names = self.categories.setdefault(category.dimension_id, {})
            names.setdefault(category.slug.lower(), category)
            names.setdefault(clean_text(category.label).lower(), category)
        self.by_pk = {
            "metric": {m.pk: m for m in self.metrics.values()},
            "source": {s.pk: s for s in self.sources.values()},
            "jurisdiction": {j.pk: j for j in self.jurisdictions.values()},
            "breakdown": {c.pk: c for names in self.categories.values() for c in names.values()},
        }
        self.existing = {}
        self.fields = self._fields(Suggestions())

    def _fields(self, suggest):
        """One django-import-export Field per column, each with its widget."""
        widgets = {
            "period": PeriodWidget(),
            "jurisdiction": JurisdictionWidget(
                Jurisdiction, "code", self.jurisdictions, suggest, self.place_names
            ),
            "metric": MetricWidget(Metric, "slug", self.metrics, suggest, self.metric_names),
            "source": SourceWidget(Source, "slug", self.sources, suggest, self.source_names),
            "breakdown": BreakdownWidget(Category, "slug", self.categories, suggest),
            "value": FigureWidget(percent_ok=True),
            "numerator": FigureWidget(),
            "denominator": FigureWidget(),
            "rank": RankWidget(),
            "footnote": FootnoteWidget(),
            "footnote_es": FootnoteWidget("Spanish footnote"),
        }
        return {
            column: Field(attribute=column, column_name=column, widget=widget)
            for column, widget in widgets.items()
        }

    def attach(self, observation):
        """Set the related objects of an observation made with ids only, from the maps."""
        observation.metric = self.by_pk["metric"][observation.metric_id]
        observation.source = self.by_pk["source"][observation.source_id]
        observation.jurisdiction = self.by_pk["jurisdiction"][observation.jurisdiction_id]
        if observation.breakdown_id is not None:
            observation.breakdown = self.by_pk["breakdown"][observation.breakdown_id]
        return observation

    def line(self, index):
        """The line in the file of the index-th data row (0-based)."""
        if self.lines and index < len(self.lines):
            return self.lines[index]
        return index + 2

    def metric_names(self):
        return {slug: f'"{slug}"' for slug in Metric.objects.values_list("slug", flat=True)}

    def place_names(self):
        names = {}
        for code, name in Jurisdiction.objects.values_list("code", "name"):
            names[code.lower()] = names[name.lower()] = f"{code} ({name})"
        return names

    def source_names(self, end):
        """Editions that could have published a period ending on `end`."""
        return {
            slug: f'"{slug}"'
            for slug, year in Source.objects.values_list("slug", "edition_year")
            if end is None or year >= end.year
        }

    def clean(self, column, cells, errors, **context):
        """The column's value converted by its widget; a message in errors if it cannot be."""
        if column in errors:
            return None
        try:
            return self.fields[column].clean(cells, **context)
        except ValueError as e:
            errors[column] = str(e)
            return None

    def convert(self, cells):
        """Convert one row. Returns (parsed dict, {column: message})."""
        errors = {}
        for column, value in cells.items():
            try:
                refuse_formula(value)
            except ValueError as e:
                errors[column] = str(e)
        cells = {column: cells.get(column) for column in COLUMNS}
        # Period first: the source's coverage and its suggestions depend on it.
        period = self.clean("period", cells, errors)
        jurisdiction = self.clean("jurisdiction", cells, errors)
        metric = self.clean("metric", cells, errors)
        source = self.clean("source", cells, errors, period=period)
        breakdown = self.clean("breakdown", cells, errors, metric=metric)
        parsed = {}
        unit = metric.unit if metric is not None else None
        for column in (*NUMBER_COLUMNS, *TEXT_COLUMNS):
            if column in self.columns and column not in errors:
                parsed[column] = self.clean(column, cells, errors, unit=unit)
        if parsed.get("value") is None and "value" not in errors:
            errors["value"] = "A value is required."
        if None not in (jurisdiction, metric, source, period):
            key = (metric.pk, jurisdiction.pk, *period, getattr(breakdown, "pk", None))
            parsed["key"] = (*key, source.pk)
        parsed["unit"] = unit
        return parsed, errors

    def check_figures(self, parsed, errors):
        """The unit's rules on the figures as they will be saved: a column the file leaves
        out keeps its stored value."""
        if not parsed["unit"] or errors.keys() & set(NUMBER_COLUMNS):
            return
        stored = self.existing.get(parsed.get("key"))

        def figure(column):
            if column in self.columns:
                return parsed.get(column)
            return getattr(stored, column, None)

        found = validate_figures(
            parsed["unit"],
            parsed["value"],
            figure("numerator"),
            figure("denominator"),
            figure("rank"),
        )
        for column, message in found.items():
            errors.setdefault(column, message)


def _observation(key, values, stored=None):
    """An Observation of a key with its figures: ids only (setting related objects costs more
    than the rest of the row; the few rows shown or warned about get them from the maps)."""
    metric, place, first, last, breakdown, source = key
    observation = Observation(
        metric_id=metric,
        jurisdiction_id=place,
        period_start=first,
        period_end=last,
        breakdown_id=breakdown,
        source_id=source,
        footnote="",
        footnote_es="",
    )
    if stored is not None:
        observation.pk, observation.updated_at = stored.pk, stored.updated_at
        for name in FIGURE_FIELDS:
            setattr(observation, name, getattr(stored, name))
    for name, value in values.items():
        setattr(observation, name, value)
    return observation


def _add_row(plan, line, parsed, stored, keep_existing):
    """File a valid row under new, updated or unchanged."""
    key = parsed["key"]
    values = {name: parsed[name] for name in FIGURE_FIELDS if name in parsed}
    for name in TEXT_COLUMNS:
        if name in values:
            values[name] = values[name] or ""
    if stored is None:
        plan.new.append(Planned(line, _observation(key, values), key))
        return
    plan.versions[key] = (stored.pk, stored.updated_at)
    changes = {}
    if not keep_existing:
        changes = {
            name: (getattr(stored, name), new)
            for name, new in values.items()
            if getattr(stored, name) != new
        }
    observation = _observation(key, {name: new for name, (_old, new) in changes.items()}, stored)
    if changes:
        plan.updated.append(Planned(line, observation, key, changes))
    else:
        plan.unchanged.append(Planned(line, observation, key))


def _report(plan, line, row_errors):
    plan.error_rows += 1
    for column, message in row_errors.items():
        where = "columns " + ", ".join(KEY_COLUMNS) if column == "key" else f"column {column}"
        plan.errors.append(f"row {line}, {where}: {message}")


def _convert_rows(dataset, rows, progress):
    """[(line, parsed, errors)] of every row, each column converted by its widget."""
    headers = dataset.headers
    converted = []
    for index, values in enumerate(dataset):
        if progress and index and index % 5000 == 0:
            progress(index)
        parsed, row_errors = rows.convert(dict(zip(headers, values, strict=False)))
        converted.append((rows.line(index), parsed, row_errors))
    return converted


def _check_file(dataset, plan):
    """The checks of the file as a whole; False when its rows cannot be read."""
    if not hasattr(dataset, "source_rows"):  # not from read_upload, which normalises them
        dataset.headers = [normalise_header(h) for h in dataset.headers or []]
    plan.total = len(dataset)
    errors, warnings = check_columns(dataset.headers)
    plan.warnings += warnings
    plan.errors += errors
    if not errors and not len(dataset):
        plan.errors.append(
            "The file has a header row but no data rows: add one row per figure below the "
            "header (the template itself holds none)."
        )
    return not plan.errors


def plan_import(dataset, progress=None, keep_existing=False):
    """Check every row of a dataset and work out what importing it would do."""
    plan = Plan()
    if not _check_file(dataset, plan):
        return plan
    rows = plan.rows = Rows(dataset)
    converted = _convert_rows(dataset, rows, progress)
    groups = {group_of(parsed["key"]) for _line, parsed, _errors in converted if "key" in parsed}
    rows.existing = read_stored(groups)
    seen = {}
    for line, parsed, row_errors in converted:
        rows.check_figures(parsed, row_errors)
        key = parsed.get("key")
        if not row_errors and key is not None:
            first = seen.setdefault(key, line)
            if first != line:
                row_errors["key"] = (
                    "The same jurisdiction, metric, period, breakdown and source are "
                    f"already in row {first}; give each observation once."
                )
        if row_errors:
            _report(plan, line, row_errors)
        else:
            _add_row(plan, line, parsed, rows.existing.get(key), keep_existing)
    if progress:
        progress(len(dataset))
    _breakdown_warnings(plan, rows)
    return plan


def _count_groups(plan, rows):
    """{group: planned rows} of the file's counts, with the stored figures of those groups."""
    planned = [*plan.new, *plan.updated, *plan.unchanged]
    counts = {m.pk for m in rows.metrics.values() if m.unit == "count"}
    groups = {}
    for p in planned:
        if p.key[0] in counts:
            groups.setdefault(group_of(p.key), []).append(p)
    keys = {p.key for p in planned}
    for key, stored in rows.existing.items():
        group = group_of(key)
        if group in groups and key not in keys:
            groups[group].append(Planned(0, _observation(key, {}, stored), key))
    return groups


def _breakdown_warnings(plan, rows):
    """Breakdowns that do not add up: a warning, never an error. The file's rows are checked
    with the stored figures of the same groups (already read). Only groups of counts with
    a total and a category are looked at."""
    groups = _count_groups(plan, rows)
    candidates = []
    for members in groups.values():
        totals = sum(1 for p in members if p.key[4] is None)
        if totals == 1 and len(members) > 1:
            candidates += members
    lines = {id(p.observation): p.line for p in candidates if p.line}
    observations = [rows.attach(p.observation) for p in candidates]
    for warning in breakdown_warnings(observations):
        found = sorted(lines[id(o)] for o in warning.observations if id(o) in lines)
        plan.warnings.append(f"rows {', '.join(map(str, found))}: {warning.message}")


def describe(observation):
    return {
        "observation": str(observation),
        "key": {
            "jurisdiction": observation.jurisdiction.code,
            "metric": observation.metric.slug,
            "period": format_period(observation.period_start, observation.period_end),
            "breakdown": observation.breakdown.slug if observation.breakdown_id else "",
            "source": observation.source.slug,
        },
    }
