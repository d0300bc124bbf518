"""Made-up statistics for the import, export and admin tests (never shipped as content).

Import into a test module with `from tests.stats_fixtures import *  # noqa: F403`.
"""

import csv
import io

import pytest
from openpyxl import Workbook

from stats.exchange.common import COLUMNS
from stats.models import Category, Dimension, Metric
from tests.factories import made_up_edition

# The import format, without its optional Spanish footnote (the tests of that column add it).
HEADER = [c for c in COLUMNS if c != "footnote_es"]


@pytest.fixture
def stats_data(db):
    kind = Dimension.objects.create(slug="test-kind", label="Type of trafficking")
    sex = Category.objects.create(dimension=kind, slug="sex", label="Sex trafficking", sort_order=1)
    labor = Category.objects.create(
        dimension=kind, slug="labor", label="Labor trafficking", sort_order=2
    )
    metrics = {
        "cases": Metric.objects.create(
            slug="test-cases", label="Test cases", unit="count", dimension=kind
        ),
        "share": Metric.objects.create(slug="test-share", label="Test share", unit="percent"),
        "rank": Metric.objects.create(slug="test-rank", label="Test rank", unit="rank"),
        "months": Metric.objects.create(slug="test-months", label="Test months", unit="months"),
    }
    old = made_up_edition("test-report-2018", 2018, title="Test Report")
    new = made_up_edition("test-report-2019", 2019, title="Test Report")
    return {
        "dimension": kind,
        "sex": sex,
        "labor": labor,
        "metrics": metrics,
        "old": old,
        "new": new,
    }


def good_rows():
    """Valid rows: a total with a breakdown, a percent with n of m, a rank, months."""
    return [
        ["MO", "test-cases", "2019", "", "233", "", "", "", "", "test-report-2019"],
        ["MO", "test-cases", "2019", "sex", "180", "", "", "", "", "test-report-2019"],
        ["MO", "test-cases", "2019", "Labor trafficking", "53", "", "", "", "", "test-report-2019"],
        ["US", "test-share", "2012-12/2016-12", "", "22.5", "9", "40", "", "", "test-report-2019"],
        ["MO", "test-rank", "2018", "", "12", "", "", "", "1 of 50 excluded", "test-report-2018"],
        ["MOED", "test-months", "2018", "", "14.25", "", "", "", "", "test-report-2018"],
    ]


def csv_bytes(rows, header=HEADER, bom=False):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def xlsx_bytes(rows, header=HEADER, sheet_title=None, extra_sheets=()):
    book = Workbook()
    for title in extra_sheets:
        book.create_sheet(title).append(["nothing", "here"])
    sheet = book.active if sheet_title is None else book.create_sheet(sheet_title, 0)
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
