"""Editors get a clear message for block choices that cannot show anything sensible."""

import pytest
from wagtail.blocks import StructBlockValidationError

from stats.display.blocks import ChartBlock, RankedListBlock
from stats.models import Jurisdiction, Metric

pytestmark = pytest.mark.django_db


def test_a_chart_whose_last_year_is_before_its_first_is_refused():
    metric = Metric.objects.create(slug="cases", label="Cases", unit="count")
    block = ChartBlock()
    value = block.to_python(
        {
            "title": "Cases",
            "metrics": [metric.pk],
            "jurisdictions": [Jurisdiction.objects.get(code="MO").pk],
            "from_year": 2020,
            "to_year": 2018,
            "chart_type": "bar",
            "description": "Cases by year.",
        }
    )
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(value)
    assert "to_year" in refused.value.block_errors
    value["to_year"] = 2021
    assert block.clean(value)["to_year"] == 2021


def test_a_ranked_list_needs_a_ranking_metric():
    count = Metric.objects.create(slug="cases", label="Cases", unit="count")
    rank = Metric.objects.create(slug="top-venues", label="Top venues", unit="rank")
    block = RankedListBlock()
    raw = {"title": "Top", "jurisdiction": Jurisdiction.objects.get(code="MO").pk, "limit": 5}
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(block.to_python({**raw, "metric": count.pk}))
    assert "is not a ranking" in str(refused.value.block_errors["metric"])
    assert block.clean(block.to_python({**raw, "metric": rank.pk}))["metric"] == rank
