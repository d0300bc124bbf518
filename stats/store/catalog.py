"""Load a catalog of dimensions, sources and metrics (the reference data figures refer to).

Idempotent: what exists is left as it is, so a second run changes nothing and an editor's
later changes are never overwritten. The Spanish text beside the English (`label_es`,
`definition_es`, `note_es`, `name_es` of jurisdictions, and the Spanish renderings of a
source's `methodology_es`, `limitations_es`, `caveat_es`) is filled in where it is still
empty, so a catalog that gains a translation brings it to an existing store.
"""

import datetime
import json

from django.db import transaction

from stats.models import Category, Dimension, Jurisdiction, Metric, Source


def _translations(spec, fields):
    return {f: spec[f] for f in fields if spec.get(f)}


def _fill_translations(obj, translations):
    """Set the translated fields that are still empty; return 1 when something was saved."""
    missing = {f: text for f, text in translations.items() if not getattr(obj, f)}
    if not missing:
        return 0
    for field, text in missing.items():
        setattr(obj, field, text)
    obj.save(update_fields=list(missing))
    return 1


SOURCE_FIELDS = (
    "publisher",
    "title",
    "edition",
    "edition_year",
    "url",
    "license_url",
    "coverage",
    "methodology",
    "limitations",
    "caveat",
)


# A source's texts quoted as published, each with a Spanish rendering beside it.
SOURCE_RENDERED = ("methodology", "limitations", "caveat")


@transaction.atomic
def load_catalog(path):
    """Create what is missing from the JSON catalog at `path`; return the number created."""
    with open(path, encoding="utf-8") as f:
        catalog = json.load(f)
    created = 0
    for spec in catalog.get("dimensions", []):
        dimension, new = Dimension.objects.get_or_create(
            slug=spec["slug"], defaults={"label": spec["label"]}
        )
        created += new
        _fill_translations(dimension, _translations(spec, ["label_es"]))
        for position, cat in enumerate(spec.get("categories", [])):
            category, new = Category.objects.get_or_create(
                dimension=dimension,
                slug=cat["slug"],
                defaults={
                    "label": cat["label"],
                    "sort_order": position,
                    "note": cat.get("note", ""),
                },
            )
            created += new
            _fill_translations(category, _translations(cat, ["label_es", "note_es"]))
    for spec in catalog.get("jurisdictions", []):
        jurisdiction = Jurisdiction.objects.filter(code=spec["code"]).first()
        if jurisdiction is not None:
            _fill_translations(jurisdiction, _translations(spec, ["name_es"]))
    sources = {}
    for spec in catalog.get("sources", []):
        defaults = {k: spec.get(k, "") for k in SOURCE_FIELDS}
        for date_field in ("published_on", "data_as_of"):
            if spec.get(date_field):
                defaults[date_field] = datetime.date.fromisoformat(spec[date_field])
        source, new = Source.objects.get_or_create(slug=spec["slug"], defaults=defaults)
        sources[source.slug] = source
        created += new
        # A rendering belongs to the English it renders: another pack's words for a shared
        # edition (its own state's caveat) render that state's text, not this one.
        renders_this = [
            f"{name}_es" for name in SOURCE_RENDERED if spec.get(name, "") == getattr(source, name)
        ]
        _fill_translations(source, _translations(spec, renders_this))
    for spec in catalog.get("metrics", []):
        dimension = Dimension.objects.get(slug=spec["dimension"]) if spec.get("dimension") else None
        metric, new = Metric.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "label": spec["label"],
                "unit": spec["unit"],
                "definition": spec.get("definition", ""),
                "dimension": dimension,
            },
        )
        _fill_translations(metric, _translations(spec, ["label_es", "definition_es"]))
        if new:
            metric.sources.set(
                [sources.get(s) or Source.objects.get(slug=s) for s in spec.get("sources", [])]
            )
        created += new
    return created
