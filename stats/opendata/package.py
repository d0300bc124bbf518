"""The full downloads as a data package: a Frictionless Data Package (`datapackage.json`) with
a Table Schema of every column, and W3C CSV on the Web metadata (`figures.csv-metadata.json`)
for the same CSV files, beside the metric and place tables the figures refer to.

They are built with the downloads (stats/opendata/files.py, per data version and scope) and
served beside them under /data/package/, so the relative paths in the descriptors name the
files next to them. The descriptors hold no figure: their only facts are the scope's years,
places and source editions (stats.opendata.metadata), so a package is never older than its
files.
"""

import csv
import io
import json

from stats.exchange.common import EXPORT_COLUMNS, KEY_COLUMNS, neutralise
from stats.models import Jurisdiction, Metric
from stats.opendata.metadata import scope_facts, shared_license

PERIOD_PATTERN = r"[0-9]{4}|[0-9]{4}-[0-9]{2}/[0-9]{4}-[0-9]{2}"
UNITS = [choice for choice, _label in Metric.Unit.choices]
STRING, NUMBER, INTEGER, BOOLEAN = "string", "number", "integer", "boolean"

# Every column of the figure files: (name, type, unit, description, constraints).
FIGURE_COLUMNS = {
    "jurisdiction": (STRING, None, "The place's code (jurisdictions.csv).", {"required": True}),
    "metric": (
        STRING,
        None,
        "What is counted: the metric's slug (metrics.csv).",
        {"required": True},
    ),
    "period": (
        STRING,
        None,
        'The period: a year ("2019") or months ("2012-12/2016-12").',
        {"required": True, "pattern": PERIOD_PATTERN},
    ),
    "breakdown": (
        STRING,
        None,
        "The category of the metric's breakdown (its slug); empty for the total.",
        {},
    ),
    "value": (
        NUMBER,
        "given by the unit column",
        "The published value, exact, in the unit of the unit column.",
        {"required": True, "minimum": 0},
    ),
    "numerator": (NUMBER, "count", 'For "n of m" figures: the n.', {"minimum": 0}),
    "denominator": (NUMBER, "count", 'For "n of m" figures: the m.', {"minimum": 0}),
    "rank": (
        INTEGER,
        "rank among the states (1 is the highest)",
        "The national rank, as published.",
        {"minimum": 1, "maximum": 56},
    ),
    "footnote": (STRING, None, "Exclusions and caveats, as published.", {}),
    "footnote_es": (STRING, None, "The footnote in Spanish, as the portal renders it.", {}),
    "source": (STRING, None, "The source edition's slug.", {"required": True}),
    "metric_label": (STRING, None, "The metric's label.", {"required": True}),
    "unit": (STRING, None, "The unit of value.", {"required": True, "enum": UNITS}),
    "current": (
        BOOLEAN,
        None,
        "yes: the newest edition's value of this figure; no: a value a later edition restated.",
        {"required": True},
    ),
    "source_edition": (STRING, None, "How the publisher names the edition.", {"required": True}),
    "source_citation": (STRING, None, "The edition cited in full.", {"required": True}),
    "source_title": (STRING, None, "The publication's title.", {"required": True}),
    "source_publisher": (STRING, None, "Who published it.", {"required": True}),
    "source_url": (
        STRING,
        None,
        "The edition's address; empty where the portal holds none.",
        {},
    ),
}
assert tuple(FIGURE_COLUMNS) == EXPORT_COLUMNS, "the package describes every exported column"

METRIC_COLUMNS = {
    "slug": (
        STRING,
        "The metric's slug, as the figures name it.",
        {"required": True, "unique": True},
    ),
    "label": (STRING, "Its label.", {"required": True}),
    "label_es": (STRING, "Its label in Spanish, where given.", {}),
    "unit": (STRING, "The unit of its values.", {"required": True, "enum": UNITS}),
    "dimension": (STRING, "What it may be broken down by (a slug); empty if nothing.", {}),
    "definition": (STRING, "What it counts and what it does not.", {}),
}
PLACE_COLUMNS = {
    "code": (
        STRING,
        "The place's code, as the figures name it.",
        {"required": True, "unique": True},
    ),
    "name": (STRING, "Its name.", {"required": True}),
    "name_es": (STRING, "Its name in Spanish, where given.", {}),
    "kind": (
        STRING,
        "nation, state, district (a federal judicial district) or hhs_region.",
        {"required": True},
    ),
    "parent": (STRING, "The code of the place it lies within; empty if none.", {}),
}
# The files of a package: format name -> (file name, content type).
FILES = {
    "package": ("datapackage.json", "application/json"),
    "csvw": ("figures.csv-metadata.json", "application/csvm+json"),
    "metrics": ("metrics.csv", "text/csv; charset=utf-8"),
    "places": ("jurisdictions.csv", "text/csv; charset=utf-8"),
}


def _field(name, kind, unit, description, constraints):
    field = {"name": name, "type": kind, "description": description}
    if unit:
        field["unit"] = unit
    if kind == BOOLEAN:
        field.update(trueValues=["yes"], falseValues=["no"])
    if constraints:
        field["constraints"] = constraints
    return field


def figure_schema(history=False):
    """The Table Schema of a figure file. A figure (place, metric, period, breakdown) has one
    current value; the history holds one value per edition of it."""
    key = [c for c in KEY_COLUMNS if history or c != "source"]
    return {
        "fields": [_field(name, *spec) for name, spec in FIGURE_COLUMNS.items()],
        "missingValues": [""],
        "primaryKey": key,
        "foreignKeys": [
            {"fields": "metric", "reference": {"resource": "metrics", "fields": "slug"}},
            {
                "fields": "jurisdiction",
                "reference": {"resource": "jurisdictions", "fields": "code"},
            },
        ],
    }


def _table_schema(columns, key):
    return {
        "fields": [
            _field(name, kind, None, text, rules) for name, (kind, text, rules) in columns.items()
        ],
        "missingValues": [""],
        "primaryKey": [key],
    }


def _csv_resource(name, path, title, schema):
    return {
        "name": name,
        "path": path,
        "title": title,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "schema": schema,
    }


def datapackage(scope, version):
    """The Frictionless Data Package descriptor of a scope's downloads at a data version."""
    facts = scope_facts(scope) or {"sources": []}
    package = {
        "profile": "tabular-data-package",
        "name": f"human-trafficking-figures-{scope.lower()}",
        "title": "Published figures on human trafficking",
        "description": (
            "Every figure the portal holds for this site, each with the source edition that "
            "published it: current values (figures.csv) and every edition's value "
            "(figures-history.csv), with the metrics and places they refer to."
        ),
        "version": str(version),
        "sources": [
            {"title": s["citation"], **({"path": s["url"]} if s["url"] else {})}
            for s in facts["sources"]
        ],
        "resources": [
            _csv_resource("figures", "figures.csv", "Current figures", figure_schema()),
            _csv_resource(
                "figures-history",
                "figures-history.csv",
                "Every edition's figures",
                figure_schema(history=True),
            ),
            _csv_resource(
                "metrics", "metrics.csv", "Metrics", _table_schema(METRIC_COLUMNS, "slug")
            ),
            _csv_resource(
                "jurisdictions", "jurisdictions.csv", "Places", _table_schema(PLACE_COLUMNS, "code")
            ),
        ],
    }
    if facts.get("first"):
        package["temporalCoverage"] = f"{facts['first']}/{facts['last']}"
    license_url = shared_license(facts) if facts["sources"] else None
    if license_url:
        package["licenses"] = [{"path": license_url}]
    return package


# --- CSV on the Web -------------------------------------------------------------------------

CSVW_TYPES = {STRING: "string", NUMBER: "decimal", INTEGER: "integer", BOOLEAN: "boolean"}


def _csvw_column(field, required=False):
    column = {
        "name": field["name"],
        "titles": field["name"],
        "datatype": CSVW_TYPES[field["type"]],
        "dc:description": field["description"],
        "null": "",
    }
    if field["type"] == BOOLEAN:
        column["datatype"] = {"base": "boolean", "format": "yes|no"}
    elif "pattern" in field.get("constraints", {}):
        column["datatype"] = {"base": "string", "format": field["constraints"]["pattern"]}
    if field.get("unit"):
        column["schema:unitText"] = field["unit"]
    if field.get("constraints", {}).get("required"):
        column["required"] = True
    return column


def _csvw_table(resource, paths):
    schema = resource["schema"]
    table = {
        "url": resource["path"],
        "dc:title": resource["title"],
        "tableSchema": {
            "columns": [_csvw_column(f) for f in schema["fields"]],
            "primaryKey": schema["primaryKey"],
        },
    }
    keys = [
        {
            "columnReference": key["fields"],
            "reference": {
                "resource": paths[key["reference"]["resource"]],
                "columnReference": key["reference"]["fields"],
            },
        }
        for key in schema.get("foreignKeys", ())
    ]
    if keys:
        table["tableSchema"]["foreignKeys"] = keys
    return table


def csvw_metadata(scope, version):
    """CSVW metadata (a table group) of the same CSV files, from the package's Table Schemas."""
    package = datapackage(scope, version)
    paths = {r["name"]: r["path"] for r in package["resources"]}
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "dc:title": package["title"],
        "dc:description": package["description"],
        "tables": [_csvw_table(r, paths) for r in package["resources"]],
    }


# --- The tables the figures refer to ----------------------------------------------------------


def _csv(columns, rows):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([neutralise(str(cell or "")) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def metrics_csv():
    rows = Metric.objects.order_by("slug").values_list(
        "slug", "label", "label_es", "unit", "dimension__slug", "definition"
    )
    return _csv(METRIC_COLUMNS, rows)


def jurisdictions_csv():
    rows = Jurisdiction.objects.order_by("code").values_list(
        "code", "name", "name_es", "kind", "parent__code"
    )
    return _csv(PLACE_COLUMNS, rows)


def _json(data):
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode()


def package_file(fmt, scope, version):
    """The bytes of one package file (a format of FILES)."""
    if fmt == "package":
        return _json(datapackage(scope, version))
    if fmt == "csvw":
        return _json(csvw_metadata(scope, version))
    if fmt == "metrics":
        return metrics_csv()
    return jurisdictions_csv()
