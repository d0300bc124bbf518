"""Template tags of the open-data downloads (the data_downloads block)."""

from django import template
from django.db.models import Exists, OuterRef

from stats.exchange.common import COLUMNS, EXPORT_COLUMNS
from stats.models import Jurisdiction, Metric, Observation, Source

register = template.Library()


@register.simple_tag
def download_filter_choices():
    """The choices of the download filter form: three small queries, made once per block."""
    # Only places the store holds figures for: choosing one gives a file with figures in it.
    with_figures = Jurisdiction.objects.filter(
        Exists(Observation.objects.filter(jurisdiction=OuterRef("pk")))
    )
    places = list(with_figures.order_by("kind", "name").only("kind", "code", "name", "name_es"))
    groups = [
        (label, [(p.code, p.display_name) for p in places if p.kind == value])
        for value, label in Jurisdiction.Kind.choices
    ]
    metrics = Metric.objects.order_by("label").only("slug", "label", "label_es")
    return {
        "metrics": [(m.slug, m.display_label) for m in metrics],
        "jurisdictions": [(label, items) for label, items in groups if items],
        "sources": [(s.slug, s.citation) for s in Source.objects.all()],
        # The files' columns, as the exporter writes them: the Data page lists them.
        "columns": ", ".join(EXPORT_COLUMNS),
        "import_columns": ", ".join(COLUMNS),
    }
