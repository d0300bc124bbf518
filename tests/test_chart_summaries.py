"""Chart text written from the data: every number in a chart's headline and summary is a text
of the chart's own table, for every chart of the Missouri pack (in English and Spanish) and for
generated charts of many shapes."""

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from wagtail.models import Page

from stats.display import shaping
from stats.display.batch import FigureStore
from stats.display.summaries import chart_summary
from tests.content_fixtures import load_missouri

NUMBER = re.compile(r"\d+(?:[.,\u202f\u00a0]\d+)*")


def numbers(text):
    return set(NUMBER.findall(text))


def table_numbers(chart_rows, column_labels, caption=""):
    texts = [caption, *column_labels]
    for row in chart_rows:
        texts.append(row["label"])
        texts.extend(cell["text"] for cell in row["cells"])
    return set().union(*(numbers(t) for t in texts))


def summary_text(summary):
    return " ".join([summary["headline"], *summary["sentences"]])


def chart_blocks(page):
    for block in page.specific.body:
        if block.block_type == "chart":
            yield block


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_number_of_every_missouri_summary_is_in_its_table(language):
    load_missouri()
    checked = 0
    with translation.override(language):
        for page in Page.objects.live().filter(depth__gt=1):
            for block in chart_blocks(page):
                store = FigureStore.for_block(block.block, block.value)
                (selection,) = block.block.figure_selections(block.value)
                chart = shaping.build_chart(block.value, store.observations(selection))
                if not chart:
                    continue
                said = numbers(summary_text(chart["summary"]))
                held = table_numbers(chart["rows"], chart["column_labels"])
                assert said <= held, (page.slug, block.value.get("title"), said - held)
                assert chart["summary"]["sentences"], block.value.get("title")
                checked += 1
    assert checked >= 5  # the pack's charts were found and summarised


@dataclass
class Fake:
    """What a summary reads of an observation."""

    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


values = st.decimals(min_value=0, max_value=10**7, places=1, allow_nan=False)
cells = st.one_of(st.none(), values.map(Fake))
units = st.sampled_from(["count", "percent", "months", "rank"])


@st.composite
def layouts(draw):
    kind = draw(st.sampled_from(["periods", "categories", "series"]))
    size = draw(st.integers(min_value=1, max_value=12))
    if kind == "periods":
        first = draw(st.integers(min_value=1990, max_value=2020))
        rows = [str(first + i) for i in range(size)]
    else:
        rows = [f"Category {chr(65 + i)}" for i in range(size)]
    columns = []
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        column_cells = draw(st.lists(cells, min_size=size, max_size=size))
        if not any(column_cells):
            column_cells[0] = Fake(draw(values))
        columns.append(shaping.Column(f"Series {chr(65 + i)}", draw(units), column_cells))
    if draw(st.booleans()):
        # Ranks are whole numbers; percents with their fraction ("100% (4 of 4)").
        for column in columns:
            for o in column.cells:
                if o and column.unit == "percent":
                    o.numerator, o.denominator = Decimal(3), Decimal(4)
    return shaping.ChartLayout(kind, "Rows", rows, columns)


@settings(max_examples=150, deadline=None)
@given(layout=layouts(), language=st.sampled_from(["en", "es"]))
def test_every_number_of_a_generated_summary_is_in_its_table(layout, language):
    with translation.override(language):
        summary = chart_summary(layout)
        rows = shaping.table_rows(layout)
        said = numbers(summary_text(summary))
        held = table_numbers(rows, [c.label for c in layout.columns])
    assert said <= held, said - held
    assert summary["sentences"]


def test_a_summary_names_the_span_the_change_the_extremes_and_the_gaps():
    column = shaping.Column(
        "Cases", "count", [Fake(Decimal(5)), None, Fake(Decimal(9)), Fake(Decimal(7))]
    )
    layout = shaping.ChartLayout("periods", "Period", ["2016", "2017", "2018", "2019"], [column])
    with translation.override("en"):
        summary = chart_summary(layout)
    assert summary["headline"] == "Cases, 2016 to 2019"
    assert summary["sentences"] == [
        "Cases rose from 5 in 2016 to 7 in 2019.",
        "Highest: 9 in 2018; lowest: 5 in 2016.",
        "The portal holds no figure for 2017.",
    ]
    categories = shaping.ChartLayout(
        "categories", "Category", ["Sex", "Labor"], [
            shaping.Column("Missouri", "count", [Fake(Decimal(70)), Fake(Decimal(12))])
        ]
    )  # fmt: skip
    with translation.override("es"):
        assert chart_summary(categories)["sentences"] != []
    with translation.override("en"):
        assert chart_summary(categories)["sentences"] == [
            "Missouri: highest for Sex (70), lowest for Labor (12)."
        ]
