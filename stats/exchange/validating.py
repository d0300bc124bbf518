"""Reading a dataset's rows into a plan: what an import would create, change and leave alone.

Plain Python over the rows: names are resolved with maps built by one query per referenced
table, and the stored observations the file may touch are read with one more query. Nothing
is written here; importing.write_plan applies a plan in one transaction.
"""

import hashlib
from dataclasses import dataclass, field

from stats.exchange.common import (
    COLUMNS,
    EXPORT_ONLY_COLUMNS,
    FIGURE_FIELDS,
    KEY_COLUMNS,
    REQUIRED_COLUMNS,
    UNNAMED,
    Formula,
    _closest,
    clean_text,
    max_text_length,
    normalise_header,
    parse_number,
    unneutralise,
)
from stats.models import (
    RANKED_JURISDICTIONS,
    Category,
    Jurisdiction,
    Metric,
    Observation,
    Source,
    validate_figures,
)
from stats.store.breakdowns import breakdown_warnings
from stats.store.formatting import format_decimal
from stats.store.periods import PeriodError, format_period, parse_period

NUMBER_COLUMNS = ("value", "numerator", "denominator", "rank")
MAX_SUGGESTED_NAMES = 50  # distinct unknown names given a "did you mean"; then none


def shown(value, limit=60):
    """A cell's text for a message: cut short, so a huge cell cannot make a huge message."""
    text = clean_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def figure_values(observation):
    """An observation's figures as exact text, as the history and the preview show them."""
    return {name: show(getattr(observation, name)) for name in FIGURE_FIELDS}


def show(value):
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
    filters: dict = field(default_factory=dict)
    rows: object = None  # the Rows maps, to name what the plan holds

    def name(self, planned):
        """The figure's name ("Metric, Place, 2019"), its related objects attached."""
        self.rows.attach(planned.observation)
        return str(planned.observation)

    @property
    def ok(self):
        return not self.errors

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
        else f'Column "{shown(h)}" is not part of the format and was ignored.'
        for h in unknown[:50]
    ]
    if len(unknown) > 50:
        warnings.append(f"{len(unknown) - 50:,} more columns are not part of the format.")
    return errors, warnings


def stored_versions(filters, keys, lock=False):
    """{key with source: (pk, updated_at)} of the stored rows among keys."""
    query = Observation.objects.filter(**filters)
    if lock:
        query = query.select_for_update(of=("self",))
    rows = query.values_list(
        "metric_id",
        "jurisdiction_id",
        "period_start",
        "period_end",
        "breakdown_id",
        "source_id",
        "pk",
        "updated_at",
    )
    found = {}
    for *key, pk, stamp in rows.iterator(chunk_size=5000):
        key = tuple(key)
        if key in keys:
            found[key] = (pk, stamp)
    return found


class Rows:
    """The maps one import resolves its rows with."""

    def __init__(self, dataset):
        headers = dataset.headers or []
        self.columns = set(headers)
        self.lines = getattr(dataset, "source_rows", None)
        self.jurisdictions = {j.code.upper(): j for j in Jurisdiction.objects.all()}
        wanted = {clean_text(v).lower() for v in dataset["metric"]}
        self.metrics = {m.slug: m for m in Metric.objects.filter(slug__in=wanted)}
        wanted = {clean_text(v).lower() for v in dataset["source"]}
        self.sources = {s.slug: s for s in Source.objects.filter(slug__in=wanted)}
        dimension_ids = {m.dimension_id for m in self.metrics.values() if m.dimension_id}
        self.categories = {}
        for category in Category.objects.filter(dimension_id__in=dimension_ids):
            names = self.categories.setdefault(category.dimension_id, {})
            names.setdefault(category.slug.lower(), category)
            names.setdefault(clean_text(category.label).lower(), category)
        self.filters = {
            "metric__in": [m.pk for m in self.metrics.values()],
            "source__in": [s.pk for s in self.sources.values()],
        }
        metrics = {m.pk: m for m in self.metrics.values()}
        sources = {s.pk: s for s in self.sources.values()}
        jurisdictions = {j.pk: j for j in self.jurisdictions.values()}
        categories = {c.pk: c for names in self.categories.values() for c in names.values()}
        self.existing = {}
        for o in Observation.objects.filter(**self.filters).iterator(chunk_size=5000):
            # Attach the objects already loaded, so that nothing is fetched row by row.
            o.metric, o.source = metrics[o.metric_id], sources[o.source_id]
            o.jurisdiction = jurisdictions[o.jurisdiction_id]
            if o.breakdown_id in categories:
                o.breakdown = categories[o.breakdown_id]
            self.existing[(*o.key, o.source_id)] = o
        self._suggestions = {}
        self._all = {}

    def attach(self, observation):
        """Set the related objects of an observation made with ids only, from the maps."""
        if "metric" not in observation.__dict__ and not hasattr(self, "_by_pk"):
            self._by_pk = {
                "metric": {m.pk: m for m in self.metrics.values()},
                "source": {s.pk: s for s in self.sources.values()},
                "jurisdiction": {j.pk: j for j in self.jurisdictions.values()},
                "breakdown": {
                    c.pk: c for names in self.categories.values() for c in names.values()
                },
            }
        if hasattr(self, "_by_pk"):
            by_pk = self._by_pk
            observation.metric = by_pk["metric"][observation.metric_id]
            observation.source = by_pk["source"][observation.source_id]
            observation.jurisdiction = by_pk["jurisdiction"][observation.jurisdiction_id]
            if observation.breakdown_id is not None:
                observation.breakdown = by_pk["breakdown"][observation.breakdown_id]
        return observation

    def line(self, index):
        """The line in the file of the index-th data row (0-based)."""
        if self.lines and index < len(self.lines):
            return self.lines[index]
        return index + 2

    def suggest(self, kind, name, choices):
        """' Did you mean ...?' once per distinct unknown name, for a bounded number of names."""
        key = (kind, name.lower())
        if key not in self._suggestions:
            if len(self._suggestions) >= MAX_SUGGESTED_NAMES:
                return ""
            self._suggestions[key] = _closest(name, choices() if callable(choices) else choices)
        return self._suggestions[key]

    def all_names(self, kind):
        if kind not in self._all:
            if kind == "metric":
                self._all[kind] = {
                    slug: f'"{slug}"' for slug in Metric.objects.values_list("slug", flat=True)
                }
            else:
                self._all[kind] = {
                    j.code.lower(): f"{j.code} ({j.name})" for j in self.jurisdictions.values()
                } | {j.name.lower(): f"{j.code} ({j.name})" for j in self.jurisdictions.values()}
        return self._all[kind]

    def source_names(self, end):
        """Editions that could have published a period ending on `end`."""
        return {
            slug: f'"{slug}"'
            for slug, year in Source.objects.values_list("slug", "edition_year")
            if end is None or year >= end.year
        }

    def parse(self, cells):
        """Resolve and check one row. Returns (parsed dict, {column: message})."""
        errors = {}
        get = cells.get
        for column, value in cells.items():
            if isinstance(value, Formula):
                errors[column] = (
                    "a formula is not accepted; type the value itself "
                    "(in Excel: copy, then Paste Special > Values)."
                )
        # Period first: the source's coverage and its suggestions depend on it.
        start = end = None
        period = clean_text(get("period"))
        if "period" in errors:
            pass
        elif not period:
            errors["period"] = "A period is required: a year such as 2019, or 2012-12/2016-12."
        else:
            try:
                start, end = parse_period(period[:40])
            except PeriodError as e:
                errors["period"] = (
                    str(e) if len(period) <= 40 else f'"{shown(period)}" is not a period.'
                )
        code = clean_text(get("jurisdiction"))
        jurisdiction = self.jurisdictions.get(code.upper())
        if jurisdiction is None and "jurisdiction" not in errors:
            if not code:
                errors["jurisdiction"] = "A jurisdiction code is required (US, or a state's code)."
            else:
                errors["jurisdiction"] = f'Unknown jurisdiction "{shown(code)}".' + self.suggest(
                    "jurisdiction", code, lambda: self.all_names("jurisdiction")
                )
        slug = clean_text(get("metric")).lower()
        metric = self.metrics.get(slug)
        if metric is None and "metric" not in errors:
            if not slug:
                errors["metric"] = "A metric is required."
            else:
                errors["metric"] = f'Unknown metric "{shown(slug)}".' + self.suggest(
                    "metric", slug, lambda: self.all_names("metric")
                )
        slug = clean_text(get("source")).lower()
        source = self.sources.get(slug)
        if "source" in errors:
            source = None
        elif source is None:
            if not slug:
                errors["source"] = "A source edition slug is required."
            else:
                errors["source"] = (
                    f'Unknown source "{shown(slug)}". A new report needs its Source first '
                    "(Statistics > Sources > Add)."
                    + self.suggest(f"source {end}", slug, lambda: self.source_names(end))
                )
        elif end is not None and end.year > source.edition_year:
            errors["source"] = (
                f'The period {format_period(start, end)} ends after what "{source.slug}" covers '
                f"(its {source.edition_year} edition cannot publish figures for later than "
                f"{source.edition_year}). Use a later edition, or add its Source first."
            )
        breakdown = None
        name = clean_text(get("breakdown"))
        if name and metric is not None and "breakdown" not in errors:
            if metric.dimension_id is None:
                errors["breakdown"] = f'"{metric.slug}" has no breakdown; leave the cell empty.'
            else:
                names = self.categories.get(metric.dimension_id, {})
                breakdown = names.get(name.lower())
                if breakdown is None:
                    choices = {k: f'"{c.slug}"' for k, c in names.items()}
                    errors["breakdown"] = (
                        f'Unknown breakdown "{shown(name)}" for "{metric.slug}".'
                        + self.suggest(f"breakdown {metric.pk}", name, choices)
                    )
        parsed = {}
        unit = metric.unit if metric is not None else None
        for column in NUMBER_COLUMNS:
            if column not in self.columns or column in errors:
                continue
            raw = get(column)
            if raw is None or (isinstance(raw, str) and not clean_text(raw)):
                parsed[column] = None
                continue
            try:
                number = parse_number(raw, percent_ok=(column == "value" and unit == "percent"))
            except ValueError as e:
                errors[column] = (
                    str(e) if len(str(raw)) <= 60 else f'"{shown(raw)}" is not a number.'
                )
                continue
            if column == "rank":
                if number != number.to_integral_value() or not 1 <= number <= RANKED_JURISDICTIONS:
                    errors["rank"] = (
                        f"A national rank is a whole number from 1 to {RANKED_JURISDICTIONS} "
                        f"(got {shown(raw)})."
                    )
                    continue
                number = int(number)
            parsed[column] = number
        if "footnote" in self.columns and "footnote" not in errors:
            text = unneutralise(str(get("footnote") or "").replace("\u00a0", " ").strip())
            if len(text) > max_text_length():
                errors["footnote"] = (
                    f"The footnote has {len(text):,} characters; the limit is "
                    f"{max_text_length():,}. Shorten it."
                )
            parsed["footnote"] = text
        if parsed.get("value") is None and "value" not in errors:
            errors["value"] = "A value is required."
        stored = None
        if None not in (jurisdiction, metric, source, start):
            key = (metric.pk, jurisdiction.pk, start, end, getattr(breakdown, "pk", None))
            parsed["key"] = (*key, source.pk)
            stored = self.existing.get(parsed["key"])
        if unit and not errors.keys() & set(NUMBER_COLUMNS):
            # A column the file leaves out keeps its stored value: check the figures as they
            # will be saved, not only the columns present.
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
            stored=stored,
        )
        return parsed, errors


def plan_import(dataset, progress=None, keep_existing=False):
    """Check every row of a dataset and work out what importing it would do."""
    plan = Plan()
    if not hasattr(dataset, "source_rows"):  # not from read_upload, which normalises them
        dataset.headers = [normalise_header(h) for h in dataset.headers or []]
    plan.total = len(dataset)
    errors, warnings = check_columns(dataset.headers)
    plan.warnings += warnings
    if errors:
        plan.errors += errors
        return plan
    if not len(dataset):
        plan.errors.append(
            "The file has a header row but no data rows: add one row per figure below the "
            "header (the template itself holds none)."
        )
        return plan
    rows = Rows(dataset)
    plan.filters, plan.rows = rows.filters, rows
    headers = dataset.headers
    seen = {}
    for index, values in enumerate(dataset):
        if progress and index and index % 5000 == 0:
            progress(index)
        line = rows.line(index)
        parsed, row_errors = rows.parse(dict(zip(headers, values, strict=False)))
        key = parsed.get("key")
        if not row_errors and key is not None:
            first = seen.setdefault(key, line)
            if first != line:
                row_errors["key"] = (
                    "The same jurisdiction, metric, period, breakdown and source are "
                    f"already in row {first}; give each observation once."
                )
        if row_errors:
            plan.error_rows += 1
            for column, message in row_errors.items():
                where = (
                    "columns " + ", ".join(KEY_COLUMNS) if column == "key" else f"column {column}"
                )
                plan.errors.append(f"row {line}, {where}: {message}")
            continue
        stored = parsed["stored"]
        if stored is None:
            # Ids only: setting related objects costs more than the rest of the row; the
            # few rows shown or warned about get them from the maps (Rows.attach).
            observation = Observation(
                metric_id=key[0],
                jurisdiction_id=key[1],
                period_start=key[2],
                period_end=key[3],
                breakdown_id=key[4],
                source_id=key[5],
                footnote="",
            )
            for name in FIGURE_FIELDS:
                if name in parsed:
                    setattr(
                        observation,
                        name,
                        parsed[name] if name != "footnote" else parsed[name] or "",
                    )
            plan.new.append(Planned(line, observation, key))
            continue
        plan.versions[key] = (stored.pk, stored.updated_at)
        changes = {}
        if not keep_existing:
            for name in FIGURE_FIELDS:
                if name not in parsed:
                    continue  # the column is absent: keep what is stored
                new = parsed[name] if name != "footnote" else parsed[name] or ""
                old = getattr(stored, name)
                if old != new:
                    changes[name] = (old, new)
        if changes:
            for name, (_old, new) in changes.items():
                setattr(stored, name, new)
            plan.updated.append(Planned(line, stored, key, changes))
        else:
            plan.unchanged.append(Planned(line, stored, key))
    if progress:
        progress(len(dataset))
    _breakdown_warnings(plan, rows)
    return plan


def _breakdown_warnings(plan, rows):
    """Breakdowns that do not add up: a warning, never an error. The file's rows are checked
    with the stored figures of the same groups (already loaded). Only groups of counts with
    a total and a category are looked at."""
    planned = [*plan.new, *plan.updated, *plan.unchanged]
    counts = {m.pk for m in rows.metrics.values() if m.unit == "count"}
    groups = {}
    for p in planned:
        if p.key[0] in counts:
            groups.setdefault(p.key[:4] + p.key[5:], []).append(p)
    keys = {p.key for p in planned}
    for key, o in rows.existing.items():
        group = key[:4] + key[5:]
        if group in groups and key not in keys:
            groups[group].append(Planned(0, o, key))
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
