"""Validation of figures by unit, and the restatement rule (newest edition is current)."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from stats.models import Jurisdiction, Observation, Source, attach_replaced, validate_figures
from stats.store.breakdowns import breakdown_warnings


@pytest.mark.parametrize(
    "unit, value, numerator, denominator, rank, errors",
    [
        ("count", D(233), None, None, None, {}),
        ("count", D(0), None, None, None, {}),
        ("count", D(-1), None, None, None, {"value": "A count cannot be negative (got -1)."}),
        (
            "count",
            D("2.5"),
            None,
            None,
            None,
            {"value": "A count must be a whole number (got 2.5)."},
        ),
        ("count", D(3), D(3), D(50), None, {}),
        ("count", D(4), D(3), D(50), None, {"value": "must equal the numerator"}),
        ("percent", D(0), None, None, None, {}),
        ("percent", D(100), None, None, None, {}),
        (
            "percent",
            D(130),
            None,
            None,
            None,
            {"value": "A percent must lie between 0 and 100 (got 130)."},
        ),
        ("percent", D("-0.1"), None, None, None, {"value": "between 0 and 100"}),
        ("percent", D("22.5"), D(9), D(40), None, {}),
        ("percent", D(24), D(9), D(40), None, {"value": "24% does not agree with 9 of 40"}),
        ("percent", D(23), D(9), D(40), None, {}),  # 22.5 rounds half up to 23
        ("percent", D("33.3"), D(1), D(3), None, {}),
        ("months", D("14.25"), None, None, None, {}),
        ("months", D(-2), None, None, None, {"value": "cannot be negative"}),
        ("rank", D(1), None, None, None, {}),
        ("rank", D(56), None, None, None, {}),
        ("rank", D(57), None, None, None, {"value": "from 1 to 56"}),
        ("rank", D(0), None, None, None, {"value": "from 1 to 56"}),
        ("rank", D("2.5"), None, None, None, {"value": "from 1 to 56"}),
        ("count", D(12), D(12), D(10), None, {"numerator": "cannot be above the denominator"}),
        ("count", D(3), D(3), None, None, {"denominator": "Give both"}),
        ("count", D(3), D("-3"), D(5), None, {"numerator": "whole number, not negative"}),
        ("count", D(3), None, None, 57, {"rank": "from 1 to 56"}),
        ("count", None, None, None, None, {"value": "A value is required."}),
    ],
)
def test_validate_figures_per_unit(unit, value, numerator, denominator, rank, errors):
    found = validate_figures(unit, value, numerator, denominator, rank)
    assert set(found) == set(errors)
    for field, message in errors.items():
        assert message in found[field]


@pytest.fixture
def make(stats_data):
    def make(metric="cases", value=1, source="new", year=2019, breakdown=None, **kwargs):
        return Observation(
            metric=stats_data["metrics"][metric],
            jurisdiction=Jurisdiction.objects.get(code=kwargs.pop("code", "US")),
            period_start=kwargs.pop("start", date(year, 1, 1)),
            period_end=kwargs.pop("end", date(year, 12, 31)),
            breakdown=stats_data[breakdown] if breakdown else None,
            value=D(value),
            source=stats_data[source],
            **kwargs,
        )

    return make


@pytest.mark.django_db
def test_model_clean_uses_the_same_messages(make):
    with pytest.raises(ValidationError) as caught:
        make("share", 130).full_clean()
    assert caught.value.message_dict["value"] == ["A percent must lie between 0 and 100 (got 130)."]
    make("share", "22.5", numerator=9, denominator=40).full_clean()


@pytest.mark.django_db
def test_model_clean_checks_period_and_breakdown(make, stats_data):
    with pytest.raises(ValidationError) as caught:
        make(year=1985).full_clean()
    assert "between 1990" in caught.value.message_dict["period_start"][0]
    with pytest.raises(ValidationError) as caught:
        make(start=date(2019, 12, 1), end=date(2019, 1, 31)).full_clean()
    assert "ends before it starts" in caught.value.message_dict["period_end"][0]
    with pytest.raises(ValidationError) as caught:
        make("months", 3, breakdown="sex").full_clean()
    assert "has no breakdown" in caught.value.message_dict["breakdown"][0]
    make("cases", 3, breakdown="sex").full_clean()


@pytest.mark.django_db
def test_restatement_newest_edition_is_current_and_older_is_kept(make, stats_data):
    first = make(value=171, source="old", year=2018)
    first.save()
    restated = make(value=170, source="new", year=2018)
    restated.save()
    other = make(value=5, source="old", year=2017)
    other.save()
    current = attach_replaced(
        list(Observation.objects.filter(metric=stats_data["metrics"]["cases"]).current())
    )
    by_year = {o.period_start.year: o for o in current}
    assert by_year[2018].value == 170 and by_year[2018].source == stats_data["new"]
    assert [(o.value, o.source.slug) for o in by_year[2018].replaced] == [(171, "test-report-2018")]
    assert by_year[2017].value == 5 and by_year[2017].replaced == []
    assert Observation.objects.count() == 3  # both editions are kept


@pytest.mark.django_db
def test_current_is_two_queries(make, stats_data, django_assert_num_queries):
    for year in range(2010, 2020):
        make(value=year, source="old", year=year).save()
        make(value=year + 1, source="new", year=year).save()
    newer = Source.objects.create(
        slug="test-report-2020", publisher="T", title="T", edition="2020", edition_year=2020
    )
    make(value=1, year=2015, source="new").__class__.objects.create(
        metric=stats_data["metrics"]["cases"],
        jurisdiction=Jurisdiction.objects.get(code="US"),
        period_start=date(2015, 1, 1),
        period_end=date(2015, 12, 31),
        value=999,
        source=newer,
    )
    # One for the current values, one for the values they replaced.
    with django_assert_num_queries(2):
        current = attach_replaced(list(Observation.objects.all().current()))
        values = {o.period_start.year: (o.value, [r.value for r in o.replaced]) for o in current}
        assert all(o.source.slug for o in current)
    assert values[2015] == (999, [2016, 2015])
    assert values[2012] == (2013, [2012])


@pytest.mark.django_db
def test_breakdown_warning_is_a_warning_not_an_error(make):
    total = make(value=233, code="MO")
    sex = make(value=180, breakdown="sex", code="MO")
    labor = make(value=54, breakdown="labor", code="MO")
    for o in (total, sex, labor):
        o.full_clean()  # each is valid on its own
    warnings = breakdown_warnings([total, sex, labor])
    assert len(warnings) == 1
    assert "adds up to 234 but the total is 233" in warnings[0].message
    labor.value = D(53)
    assert breakdown_warnings([total, sex, labor]) == []
    # Percents and editions apart are not summed.
    assert breakdown_warnings([make("share", 50, code="MO")]) == []
