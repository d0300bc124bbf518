"""The downloadable import template: headers only, so it cannot be mistaken for data.

XLSX: the "observations" sheet holds the header row; the instructions and an example row
are on a second sheet, which the import never reads. CSV: the instructions and the example
are comment lines starting with "#", which the import skips, above the header row.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from stats.exchange.common import COLUMNS
from stats.models import Jurisdiction, Metric, Source

COLUMN_HELP = {
    "jurisdiction": (
        "Required. Jurisdiction code, as listed under Statistics > Jurisdictions: US, a "
        "state's postal code, a federal district's code or an HHS region (HHS1 to HHS10)."
    ),
    "metric": "Required. The metric's slug, as listed under Statistics > Metrics.",
    "period": "Required. A year (2019) or a span of months (2012-12/2016-12), 1990 to next year.",
    "breakdown": (
        "Optional. A category of the metric's breakdown (its slug or label); empty for the total."
    ),
    "value": (
        "Required. The published figure, in plain digits. Counts are whole numbers; percents "
        'lie in 0 to 100 (22.5 or "22.5%"); ranks lie in 1 to 56. "1,234" is read as 1234.'
    ),
    "numerator": "Optional. For an 'n of m' figure: n. Never above the denominator.",
    "denominator": "Optional. For an 'n of m' figure: m. Give both or neither.",
    "rank": "Optional. The published national rank (1 to 56), as printed.",
    "footnote": "Optional. Exclusions and caveats, as published (up to 2,000 characters).",
    "footnote_es": (
        "Optional. The footnote in Spanish, shown beside it on the Spanish pages (up to 2,000 "
        "characters)."
    ),
    "source": (
        "Required. The source edition's slug, as listed under Statistics > Sources. An edition "
        "publishes no period after its year; add a new report's Source before importing."
    ),
}
NOTES = (
    "One row per figure, below the header row. Headers may use any case and spacing. Only the "
    "sheet named 'observations' (or the first sheet) is read. Formulas are refused: paste "
    "values. The example below is not data: it is never imported."
)


def _example():
    metric = Metric.objects.order_by("slug").values_list("slug", flat=True).first()
    source = Source.objects.order_by("-edition_year").first()
    state = (
        Jurisdiction.objects.filter(kind=Jurisdiction.Kind.STATE, observations__isnull=False)
        .values_list("code", flat=True)
        .first()
    )
    return {
        "jurisdiction": state or "US",
        "metric": metric or "metric-slug",
        "period": str(source.edition_year) if source else "2019",
        "breakdown": "",
        "value": "120",
        "numerator": "",
        "denominator": "",
        "rank": "",
        "footnote": "",
        "footnote_es": "",
        "source": source.slug if source else "source-edition-slug",
    }


def template_file(fmt):
    """The import template in csv or xlsx."""
    example = _example()
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow([f"# {NOTES}"])
        for column in COLUMNS:
            writer.writerow([f"# {column}: {COLUMN_HELP[column]}"])
        writer.writerow(["# example (made up): " + ",".join(example[c] for c in COLUMNS)])
        writer.writerow(COLUMNS)
        return ("\ufeff" + out.getvalue()).encode()
    if fmt != "xlsx":
        raise ValueError(f"Unknown template format {fmt!r}.")
    book = Workbook()
    sheet = book.active
    sheet.title = "observations"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    about = book.create_sheet("instructions")
    about.append(["column", "what to write"])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        about.append([column, COLUMN_HELP[column]])
    about.append([])
    about.append(["notes", NOTES])
    about.append([])
    about.append(["example (made up, never imported)"])
    about.append(list(COLUMNS))
    about.append([example[c] for c in COLUMNS])
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
