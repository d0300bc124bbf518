"""The django-import-export Resource of observations: one row of the exchange format
(common.EXPORT_COLUMNS) per observation, each column rendered by the widget that reads it on
import (widgets.py), so a file exported imports back to the same figures.

The export (exporting.py) renders each row through it as the rows are read, rather than
through `Resource.export`, which would hold the whole table in one tablib Dataset: a full
download has a million rows. Importing is validating.py and importing.py, which convert each
column with the same widgets."""

from collections import defaultdict

from import_export import resources
from import_export.fields import Field

from stats.exchange.common import EXPORT_COLUMNS
from stats.exchange.widgets import FigureWidget, PeriodWidget
from stats.models import Observation


def _column(attribute, name=None, widget=None):
    return Field(attribute=attribute, column_name=name or attribute, widget=widget)


class ObservationResource(resources.ModelResource):
    """One observation per row, keyed by jurisdiction, metric, period, breakdown and source.

    A row is a dict of an observation's fields, its metric, place, category and source
    objects (exporting.py builds it from the rows it reads as tuples, with the small tables
    read once), and `period_bounds`, the pair (first day, last day)."""

    jurisdiction = _column("jurisdiction__code", "jurisdiction")
    metric = _column("metric__slug", "metric")
    period = _column("period_bounds", "period", PeriodWidget())
    breakdown = _column("breakdown__slug", "breakdown")
    value = _column("value", widget=FigureWidget())
    numerator = _column("numerator", widget=FigureWidget())
    denominator = _column("denominator", widget=FigureWidget())
    rank = _column("rank", widget=FigureWidget())
    footnote = _column("footnote")
    footnote_es = _column("footnote_es")
    source = _column("source__slug", "source")
    metric_label = _column("metric__label", "metric_label")
    unit = _column("metric__unit", "unit")
    current = Field(column_name="current")
    source_edition = _column("source__edition", "source_edition")
    source_citation = _column("source__citation", "source_citation")
    source_title = _column("source__title", "source_title")
    source_publisher = _column("source__publisher", "source_publisher")
    source_url = _column("source__url", "source_url")

    class Meta:
        model = Observation
        fields = EXPORT_COLUMNS
        export_order = EXPORT_COLUMNS

    def dehydrate_current(self, row):
        return "yes" if row["is_current"] else "no"

    def row_exporter(self):
        """A function of a row to its texts by column name, each column rendered as
        Resource.export_field renders it (its dehydrate_ method, else the field through its
        widget), with the method found once, not once a row. A column of a related object
        (metric__label, source__title...) is rendered once per object: a million rows name a
        few hundred metrics and sources. (Resource.export_resource finds every field again for
        each row, several times slower over a full download.)"""
        each_row, each_object = [], defaultdict(list)
        for field in self.get_export_fields():
            name = self.get_field_name(field)
            export = getattr(self, f"dehydrate_{name}", None) or field.export
            related, _, rest = (field.attribute or "").partition("__")
            if rest:
                each_object[related].append((name, field))
            else:
                each_row.append((name, export))
        rendered = {related: {} for related in each_object}

        def texts(row):
            out = {}
            for related, fields in each_object.items():
                target = row[related]
                key = None if target is None else target.pk
                known = rendered[related].get(key)
                if known is None:
                    known = rendered[related][key] = {n: f.export(row) for n, f in fields}
                out.update(known)
            for name, export in each_row:
                out[name] = export(row)
            return {name: out[name] for name in EXPORT_COLUMNS}

        return texts
