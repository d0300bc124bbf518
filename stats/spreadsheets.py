"""Spreadsheet exchange of observations: the one import/export code path.

read_upload(name, content) -> tablib.Dataset   file checks (size, type, zip bomb, formulas)
run_import(dataset, dry_run, user) -> ImportOutcome   all or nothing, row-level messages
export_dataset(observations, fmt) -> bytes      csv/xlsx/json, formula-safe, exact decimals

ObservationResource (django-import-export) resolves codes and slugs from maps built with
one query per referenced table, and finds existing observations with one more query.
"""

import csv
import difflib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import resources
from import_export.fields import Field

from .checks import breakdown_warnings
from .models import (
    RANKED_JURISDICTIONS,
    Category,
    Jurisdiction,
    Metric,
    Observation,
    Source,
    validate_figures,
)
from .periods import PeriodError, format_period, parse_period

KEY_COLUMNS = ("jurisdiction", "metric", "period", "breakdown", "source")
REQUIRED_COLUMNS = ("jurisdiction", "metric", "period", "value", "source")
COLUMNS = (
    "jurisdiction",
    "metric",
    "period",
    "breakdown",
    "value",
    "numerator",
    "denominator",
    "rank",
    "footnote",
    "source",
)
EXPORT_ONLY_COLUMNS = ("source_title", "source_publisher", "source_url")
EXPORT_COLUMNS = COLUMNS + EXPORT_ONLY_COLUMNS
FIGURE_FIELDS = ("value", "numerator", "denominator", "rank", "footnote")
FORMATS = ("csv", "xlsx", "json")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_DIGITS, DECIMAL_PLACES = 18, 4
UNNAMED = "__column_"  # header of a column that has values but no name
MAX_STORED_MESSAGES = 2000  # per import record; the counts give the totals

_SPACES = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff]+")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


class UploadError(ValueError):
    """A file that cannot be imported at all. `messages` lists every reason."""

    def __init__(self, messages):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


def max_bytes():
    return getattr(settings, "STATS_IMPORT_MAX_BYTES", 10 * 1024 * 1024)


def max_rows():
    return getattr(settings, "STATS_IMPORT_MAX_ROWS", 200_000)


def max_uncompressed_bytes():
    return getattr(settings, "STATS_IMPORT_MAX_UNCOMPRESSED_BYTES", 10 * max_bytes())


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f} MB"


def clean_text(value):
    """Normalise a cell to text: stray, non-breaking and repeated spaces become one space."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", str(value)).strip()


_CANONICAL = {c.replace("_", ""): c for c in EXPORT_COLUMNS}


def normalise_header(value):
    """Header text to a column name, ignoring case and spacing: "Break Down" -> "breakdown"."""
    text = re.sub(r"[\s_\-]+", "_", clean_text(value).lower()).strip("_")
    return _CANONICAL.get(text.replace("_", ""), text)


def format_decimal(value):
    """Exact text for a Decimal, without trailing zeros or exponent: 233.0000 -> "233"."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


# --- Reading files -------------------------------------------------------------------------


def read_upload(name, content):
    """Read an uploaded CSV, XLSX or JSON file into a Dataset with normalised headers.

    Raises UploadError with a clear message when the file cannot be imported at all.
    The dataset's `source_rows` attribute holds each row's line number in the file.
    """
    size = len(content)
    if size > max_bytes():
        raise UploadError(
            f"The file is {_megabytes(size)}; the limit is {_megabytes(max_bytes())}. "
            "Split it into smaller files."
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FORMATS:
        raise UploadError(
            f'"{name}" is not a CSV or Excel (.xlsx) file. Save the sheet as CSV UTF-8 or '
            "as an Excel workbook (.xlsx) and try again."
        )
    if not content.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UploadError("The file is empty.")
    if extension == "csv":
        rows = _read_csv(content)
    elif extension == "xlsx":
        rows = _read_xlsx(content)
    else:
        rows = _read_json(content)
    return _to_dataset(rows)


def _read_csv(content):
    if b"\x00" in content[:8192]:
        raise UploadError("The file is not a CSV text file (it holds binary data).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(
            "The file is not UTF-8 text. In Excel choose File > Save As > CSV UTF-8."
        ) from None
    try:
        return list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error as e:
        raise UploadError(f"The CSV file cannot be read: {e}.") from None


def _read_xlsx(content):
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UploadError("The file cannot be read as an Excel workbook (.xlsx).")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise UploadError("The file cannot be read as an Excel workbook (.xlsx).") from None
    if unpacked > max_uncompressed_bytes():
        raise UploadError(
            f"The workbook unpacks to {_megabytes(unpacked)}, more than the limit of "
            f"{_megabytes(max_uncompressed_bytes())}; it is refused as a possible zip bomb."
        )
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many kinds of error on a broken file
        reason = "it declares XML entities, which are not allowed" if _is_entity_error(e) else e
        raise UploadError(
            f"The file cannot be read as an Excel workbook (.xlsx): {reason}."
        ) from None
    try:
        sheets = {sheet.title.strip().lower(): sheet for sheet in book.worksheets}
        sheet = sheets.get("observations") or book.worksheets[0]
        rows, formulas = [], []
        limit = max_rows() + 1  # data rows, plus the header
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values = [_cell_value(cell) for cell in cells]
            if not any(v not in (None, "") for v in values):
                continue  # blank rows are skipped, and do not count towards the limit
            for column, value in enumerate(values, start=1):
                if isinstance(value, str) and value.startswith("="):
                    formulas.append((number, column))
            rows.append((number, values))
            if len(rows) > limit:
                break  # enough to report the file as too long
    except Exception as e:
        reason = "it declares XML entities, which are not allowed" if _is_entity_error(e) else e
        raise UploadError(
            f"The file cannot be read as an Excel workbook (.xlsx): {reason}."
        ) from None
    finally:
        book.close()
    if formulas:
        headers = [normalise_header(h) for h in rows[0][1]] if rows else []
        raise UploadError(
            f"row {number}, column {_column_name(headers, column)}: a formula is not accepted; "
            "type the value itself (in Excel: copy, then Paste Special > Values)."
            for number, column in formulas
        )
    return rows


def _cell_value(cell):
    """A cell's value; a number formatted as a percent (shown 22%, stored 0.22) as "22%"."""
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "%" in (getattr(cell, "number_format", None) or ""):
            return f"{Decimal(str(value)) * 100}%"
    return value


def _is_entity_error(error):
    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        return False
    seen = set()
    while error is not None and id(error) not in seen:  # openpyxl wraps the parser's error
        if isinstance(error, DefusedXmlException):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _column_name(headers, column):
    if 0 < column <= len(headers) and headers[column - 1]:
        return headers[column - 1]
    return str(column)


def _read_json(content):
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise UploadError("The file cannot be read as JSON.") from None
    if isinstance(data, dict):
        data = data.get("observations", data.get("results"))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UploadError("A JSON file must hold a list of objects, one per observation.")
    headers = list(dict.fromkeys(key for item in data for key in item))
    rows = [(1, headers)]
    rows += [(n, [item.get(h) for h in headers]) for n, item in enumerate(data, start=2)]
    return rows


def _to_dataset(rows):
    """Header from the first row; skip blank rows; check the row limit."""
    if not rows or not any(clean_text(v) for v in rows[0][1]):
        raise UploadError("The file is empty or its first row (the header) is blank.")
    raw_headers = list(rows[0][1])
    body = [(n, list(values)) for n, values in rows[1:] if any(v not in (None, "") for v in values)]
    # Drop columns with neither a header nor any value (Excel's trailing empty columns).
    width = max([len(raw_headers)] + [len(v) for _, v in body])
    keep = [
        i
        for i in range(width)
        if (i < len(raw_headers) and clean_text(raw_headers[i]))
        or any(i < len(v) and v[i] not in (None, "") for _, v in body)
    ]
    headers = []
    for i in keep:
        header = normalise_header(raw_headers[i]) if i < len(raw_headers) else ""
        headers.append(header or f"{UNNAMED}{i + 1}")
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        raise UploadError(
            "The header names a column twice: " + ", ".join(f'"{h}"' for h in duplicates) + "."
        )
    if not body:
        raise UploadError("The file has a header row but no data rows.")
    if len(body) > max_rows():
        raise UploadError(
            f"The file has more than {max_rows():,} rows, the limit. Split it into smaller files."
        )
    dataset = tablib.Dataset(headers=headers)
    for _number, values in body:
        values = values + [None] * (width - len(values))
        dataset.append([values[i] for i in keep])
    dataset.source_rows = [n for n, _ in body]
    return dataset


# --- Parsing cells -------------------------------------------------------------------------


def parse_number(value, *, percent_ok=False):
    """A Decimal from a cell: accepts 1234, "1,234", " 22% " (when percent_ok)."""
    if isinstance(value, bool):
        raise ValueError(f'"{value}" is not a number.')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        text = clean_text(value)
        if text.endswith("%"):
            if not percent_ok:
                raise ValueError(f'"{text}" has a percent sign, but this figure is not a percent.')
            text = text[:-1].strip()
        text = text.replace(" ", "")
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f'"{clean_text(value)}" is not a number.') from None
    if not number.is_finite():
        raise ValueError(f'"{clean_text(value)}" is not a number.')
    if number.as_tuple().exponent < -DECIMAL_PLACES:
        normal = number.normalize()
        if normal.as_tuple().exponent < -DECIMAL_PLACES:
            raise ValueError(f"{number} has more than {DECIMAL_PLACES} decimal places.")
        number = normal
    if abs(number) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
        raise ValueError(f"{number} is too large.")
    return number


def _closest(value, choices):
    """' Did you mean "X"?' for the closest of choices (a {candidate: shown} dict), or ''."""
    matches = difflib.get_close_matches(value.lower(), list(choices), n=1, cutoff=0.6)
    return f" Did you mean {choices[matches[0]]}?" if matches else ""


def _neutralise(text):
    """Stop a spreadsheet from reading exported text as a formula."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _unneutralise(text):
    """Undo _neutralise on import, so an export imports back to the same text."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


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
                errors["jurisdiction"] = "A jurisdiction code is required (e.g. MO or US)."
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
            parsed["footnote"] = _unneutralise(
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


# --- Running an import ---------------------------------------------------------------------


@dataclass
class ImportOutcome:
    dry_run: bool
    counts: dict = field(
        default_factory=lambda: {
            "total": 0,
            "new": 0,
            "updated": 0,
            "unchanged": 0,
            "error": 0,
            "warning": 0,
        }
    )
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors

    @property
    def imported(self):
        return self.ok and not self.dry_run

    def summary(self):
        c = self.counts
        return (
            f"{c['total']} rows: {c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['error']} with errors, {c['warning']} with warnings."
        )


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
        else f'Column "{h}" is not part of the format and was ignored.'
        for h in unknown
    ]
    return errors, warnings


def run_import(dataset, dry_run=True, user=None, progress=None, keep_existing=False):
    """Import a dataset of observations, all or nothing. Returns an ImportOutcome.

    keep_existing: only add what is missing, leaving every value already in the store as it
    is (the shipped dataset, loaded again, must not undo a data manager's correction).
    """
    outcome = ImportOutcome(dry_run=dry_run)
    if not hasattr(dataset, "source_rows"):  # not from read_upload, which normalises them
        dataset.headers = [normalise_header(h) for h in dataset.headers or []]
    outcome.counts["total"] = len(dataset)
    errors, warnings = check_columns(dataset.headers)
    outcome.warnings += warnings
    if errors:
        outcome.errors += errors
        return outcome
    if not len(dataset):
        outcome.errors.append("The file has a header row but no data rows.")
        return outcome

    resource = ObservationResource(user=user, progress=progress, keep_existing=keep_existing)
    with transaction.atomic():
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
        )
        for invalid in result.invalid_rows:
            line = resource.line(invalid.number)
            for column, messages in invalid.error_dict.items():
                for message in messages:
                    where = (
                        "columns " + ", ".join(KEY_COLUMNS)
                        if column == "key"
                        else f"column {column}"
                    )
                    outcome.errors.append(f"row {line}, {where}: {message}")
        for error_row in result.row_errors():
            number, row_errors = error_row
            for error in row_errors:
                outcome.errors.append(f"row {resource.line(number)}: {error.error}")
        for error in result.base_errors:
            outcome.errors.append(f"The import failed: {error.error}")
        totals = result.totals
        outcome.counts.update(
            new=totals.get("new", 0),
            updated=totals.get("update", 0),
            unchanged=totals.get("skip", 0),
            error=totals.get("invalid", 0) + totals.get("error", 0),
        )
        outcome.changes = resource.changes
        # Breakdowns that do not add up: a warning, never an error.
        lines = {id(o): resource.line(n) for n, o in resource.instances}
        warned_rows = set()
        for warning in breakdown_warnings(o for _, o in resource.instances):
            rows = sorted(lines[id(o)] for o in warning.observations if id(o) in lines)
            warned_rows.update(rows)
            outcome.warnings.append(f"rows {', '.join(map(str, rows))}: {warning.message}")
        outcome.counts["warning"] = len(warned_rows)
        if not dry_run and outcome.ok:
            _log_updates(resource.updated, user)
            saved = [o for _, o in resource.instances if o.pk is not None]
            transaction.on_commit(lambda: _after_import(saved))
        elif not dry_run:
            transaction.set_rollback(True)
    return outcome


def _log_updates(observations, user):
    """One Wagtail log entry per updated observation, in one bulk insert."""
    if not observations:
        return
    try:
        from django.contrib.contenttypes.models import ContentType
        from wagtail.models import ModelLogEntry
    except ImportError:  # pragma: no cover
        return
    content_type = ContentType.objects.get_for_model(Observation)
    now = timezone.now()
    ModelLogEntry.objects.bulk_create(
        [
            ModelLogEntry(
                content_type=content_type,
                object_id=str(o.pk),
                label=str(o)[:255],
                action="wagtail.edit",
                data={"source": "spreadsheet import"},
                timestamp=now,
                user=user if user is not None and user.pk else None,
                content_changed=True,
            )
            for o in observations
        ],
        batch_size=1000,
    )


def _after_import(observations):
    """Refresh what depends on model signals, which bulk writes do not send: the public
    page cache, and the search index if observations are ever indexed (today they are not;
    the import writes no indexed model)."""
    from wagtail.search.index import class_is_indexed, insert_or_update_object

    if class_is_indexed(Observation):
        for observation in observations:
            insert_or_update_object(observation)
    try:
        from portal.cache import invalidate_public_pages
    except ImportError:
        return
    invalidate_public_pages()


def record_import(name, content, outcome, user=None, record=None):
    """Create or update the ImportRecord of an import (not of a dry run)."""
    from .models import ImportRecord

    if record is None:
        record = ImportRecord(
            file_name=name[:255],
            file_format=name.rsplit(".", 1)[-1].lower()[:8],
            content=content,
            user=user if user is not None and user.pk else None,
        )
    record.counts = dict(
        outcome.counts,
        errors=outcome.errors[:MAX_STORED_MESSAGES],
        errors_total=len(outcome.errors),
        warnings=outcome.warnings[:MAX_STORED_MESSAGES],
        warnings_total=len(outcome.warnings),
    )
    record.changes = outcome.changes
    if outcome.dry_run:
        record.status = (
            ImportRecord.Status.PREVIEWED if outcome.ok else ImportRecord.Status.REJECTED
        )
    else:
        record.status = ImportRecord.Status.IMPORTED if outcome.ok else ImportRecord.Status.REJECTED
        if outcome.ok:
            record.imported_at = timezone.now()
    record.save()
    return record


# --- Export --------------------------------------------------------------------------------


def export_dataset(observations, fmt):
    """Observations (a queryset or a list) as bytes in csv, xlsx or json."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if hasattr(observations, "for_display"):
        observations = observations.for_display()
    dataset = ObservationResource().export(queryset=observations)
    rows = [dict(zip(dataset.headers, map(_cell, row), strict=True)) for row in dataset]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(_neutralise(row[c]) for c in EXPORT_COLUMNS)
        return ("\ufeff" + out.getvalue()).encode()
    return _xlsx(rows)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


NUMBER_COLUMNS = ("value", "numerator", "denominator", "rank")


def _xlsx(rows):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("observations")
    sheet.append(EXPORT_COLUMNS)
    for row in rows:
        cells = []
        for column in EXPORT_COLUMNS:
            text = row[column]
            if column in NUMBER_COLUMNS and text and len(text.replace(".", "")) <= 15:
                # The file holds the exact decimal text, and a double reads it back exactly.
                cells.append(WriteOnlyCell(sheet, Decimal(text)))
            else:
                cell = WriteOnlyCell(sheet, _neutralise(text) or None)
                if cell.data_type == "f":
                    cell.data_type = "s"
                cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- The downloadable template -------------------------------------------------------------

COLUMN_HELP = {
    "jurisdiction": (
        "Required. Jurisdiction code: US, MO, MOED (Missouri Eastern District), HHS7 ..."
    ),
    "metric": "Required. The metric's slug, as listed under Statistics > Metrics.",
    "period": "Required. A year (2019) or a span of months (2012-12/2016-12), 1990 to next year.",
    "breakdown": (
        "Optional. A category of the metric's breakdown (its slug or label); empty for the total."
    ),
    "value": (
        "Required. The published figure. Counts are whole numbers; percents lie in 0 to 100 "
        '(22.5 or "22.5%"); ranks lie in 1 to 56. "1,234" is read as 1234.'
    ),
    "numerator": "Optional. For an 'n of m' figure: n. Never above the denominator.",
    "denominator": "Optional. For an 'n of m' figure: m. Give both or neither.",
    "rank": "Optional. The published national rank (1 to 56), as printed.",
    "footnote": "Optional. Exclusions and caveats, as published.",
    "source": "Required. The source edition's slug, as listed under Statistics > Sources.",
}


def template_file(fmt):
    """The import template: header row and an example row; in XLSX, a sheet about columns."""
    example_metric = Metric.objects.order_by("slug").values_list("slug", flat=True).first()
    example_source = Source.objects.order_by("-edition_year").values_list("slug", flat=True).first()
    example = {
        "jurisdiction": "MO",
        "metric": example_metric or "metric-slug",
        "period": "2019",
        "breakdown": "",
        "value": "233",
        "numerator": "",
        "denominator": "",
        "rank": "",
        "footnote": "",
        "source": example_source or "source-edition-slug",
    }
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerow(example[c] for c in COLUMNS)
        return ("\ufeff" + out.getvalue()).encode()
    if fmt != "xlsx":
        raise ValueError(f"Unknown template format {fmt!r}.")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "observations"
    sheet.append(COLUMNS)
    sheet.append([example[c] if c != "value" else 233 for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    about = book.create_sheet("columns")
    about.append(["column", "what to write"])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        about.append([column, COLUMN_HELP[column]])
    about.append([])
    about.append(
        [
            "notes",
            "One row per observation. Headers may use any case and spacing. Only the first "
            "sheet, or a sheet named 'observations', is read. Formulas are refused: paste "
            "values. Replace the example row with your figures.",
        ]
    )
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
