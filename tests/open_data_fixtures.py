"""Made-up figures for the API and download tests (never shipped as content).

Two editions of one report: the 2019 edition restates Missouri's 2018 count (171 -> 170).
"""

import datetime
from decimal import Decimal

import pytest

from stats.models import Category, Dimension, Jurisdiction, Metric, Observation
from tests.factories import made_up_edition


def year(y):
    return datetime.date(y, 1, 1), datetime.date(y, 12, 31)


@pytest.fixture
def open_data_figures(db):
    kind = Dimension.objects.create(slug="od-kind", label="Type of trafficking")
    sex = Category.objects.create(dimension=kind, slug="od-sex", label="Sex trafficking")
    labor = Category.objects.create(dimension=kind, slug="od-labor", label="Labor trafficking")
    cases = Metric.objects.create(slug="od-cases", label="Cases", unit="count", dimension=kind)
    share = Metric.objects.create(slug="od-share", label="Share", unit="percent")
    old, new = (
        made_up_edition(
            f"od-report-{y}",
            y,
            publisher="Example Institute",
            title="Example Report",
            url=f"https://example.org/{y}",
        )
        for y in (2018, 2019)
    )
    cases.sources.set([old, new])
    mo = Jurisdiction.objects.get(code="MO")
    us = Jurisdiction.objects.get(code="US")

    def add(metric, place, period, value, source, breakdown=None, **extra):
        start, end = period if isinstance(period, tuple) else year(period)
        return Observation.objects.create(
            metric=metric,
            jurisdiction=place,
            period_start=start,
            period_end=end,
            breakdown=breakdown,
            value=Decimal(value),
            source=source,
            **extra,
        )

    rows = {
        "mo_2018_old": add(cases, mo, 2018, "171", old),
        "mo_2018": add(cases, mo, 2018, "170", new, footnote="Two cases were sealed."),
        "mo_2019": add(cases, mo, 2019, "233", new),
        "mo_2019_sex": add(cases, mo, 2019, "180", new, breakdown=sex),
        "mo_2019_labor": add(cases, mo, 2019, "53", new, breakdown=labor),
        "us_2019": add(cases, us, 2019, "1000", new),
        "mo_share": add(
            share,
            mo,
            (datetime.date(2012, 12, 1), datetime.date(2016, 12, 31)),
            "22.5",
            new,
            numerator=Decimal(9),
            denominator=Decimal(40),
        ),
    }
    return {
        "cases": cases,
        "share": share,
        "kind": kind,
        "sex": sex,
        "labor": labor,
        "old": old,
        "new": new,
        "mo": mo,
        "us": us,
        "rows": rows,
        "add": add,
    }
