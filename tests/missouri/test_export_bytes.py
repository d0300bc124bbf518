"""The export of the Missouri figures, byte for byte as it was before the export went through
django-import-export's resource (stats/exchange/resource.py): the files in expected/ were
written by the export before that change, and any change of a byte must be deliberate. (Written
again since, on purpose: the pack's non-cumulative note on its seven demographic figures, the
only lines that changed; then the new `footnote_es` column after `footnote`, the footnotes'
Spanish renderings, checked to be the only difference in every row of the three files.)"""

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.db.models import F

from stats.exchange import export_dataset
from stats.models import NEWEST_EDITION_FIRST, Observation, ObservationQuerySet

EXPECTED = Path(__file__).parent / "expected"
# The moment a workbook is written is the one thing that differs from run to run.
MOMENT = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def observations():
    """Every edition, current and replaced values, in key order with a total's empty breakdown
    first on every database (by_key() leaves NULLs where each database puts them)."""
    key = [F(name).asc(nulls_first=True) for name in ObservationQuerySet.KEY]
    return Observation.objects.order_by(*key, "-is_current", *NEWEST_EDITION_FIRST)


def xlsx_parts(content):
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return [(i.filename, MOMENT.sub(b"", book.read(i))) for i in book.infolist()]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_exports_are_unchanged(missouri_pack, db, fmt):
    content = export_dataset(observations(), fmt)
    assert content == (EXPECTED / f"observations.{fmt}").read_bytes()


def test_xlsx_export_is_unchanged(missouri_pack, db):
    content = export_dataset(observations(), "xlsx")
    assert xlsx_parts(content) == xlsx_parts((EXPECTED / "observations.xlsx").read_bytes())
