"""The shipped Missouri dataset and content, loaded for the content tests.

The figures are read from packs/missouri/observations.csv straight through the ORM, so these
tests depend on the shipped files and build_site() only, not on the spreadsheet importer (which
has its own tests and is exercised by the load_initial_data test).
"""

import csv
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from portal.initial_content import build_site
from stats.catalog import load_catalog
from stats.models import Category, Jurisdiction, Metric, Observation, Source
from stats.periods import parse_period

DATA_DIR = Path(settings.BASE_DIR) / "packs" / "missouri"
OBSERVATIONS_CSV = DATA_DIR / "observations.csv"


def shipped_rows():
    with open(OBSERVATIONS_CSV, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _number(text):
    return Decimal(text) if text not in ("", None) else None


def load_observations():
    metrics = {m.slug: m for m in Metric.objects.all()}
    places = {j.code: j for j in Jurisdiction.objects.all()}
    sources = {s.slug: s for s in Source.objects.all()}
    created = 0
    for row in shipped_rows():
        metric = metrics[row["metric"]]
        start, end = parse_period(row["period"])
        breakdown = (
            Category.objects.get(dimension_id=metric.dimension_id, slug=row["breakdown"])
            if row["breakdown"]
            else None
        )
        _, new = Observation.objects.get_or_create(
            metric=metric,
            jurisdiction=places[row["jurisdiction"]],
            period_start=start,
            period_end=end,
            breakdown=breakdown,
            source=sources[row["source"]],
            defaults={
                "value": Decimal(row["value"]),
                "numerator": _number(row["numerator"]),
                "denominator": _number(row["denominator"]),
                "rank": int(row["rank"]) if row["rank"] else None,
                "footnote": row["footnote"],
            },
        )
        created += new
    return created


def load_missouri():
    """Catalog, figures and content: what load_initial_data does, without the importer."""
    load_catalog(DATA_DIR / "catalog.json")
    load_observations()
    return build_site()
