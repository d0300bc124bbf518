"""Template tags of the open-data downloads (the data_downloads block)."""

from django import template

from stats.models import Metric, Source

register = template.Library()


@register.simple_tag
def download_filter_choices():
    """The choices of the download filter form: two small queries, made once per block. The
    place is typed (a text input; the place chooser lists the places with figures that match,
    from /data/places/), so the page does not grow with the number of places."""
    metrics = Metric.objects.order_by("label").only("slug", "label", "label_es")
    return {
        "metrics": [(m.slug, m.display_label) for m in metrics],
        "sources": [(s.slug, s.citation) for s in Source.objects.all()],
    }
