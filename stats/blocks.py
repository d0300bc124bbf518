"""StreamField blocks that draw figures from the statistics store.

Every block declares the observations it needs (`selection`); the page fetches them all in
one batched query (see stats.figures) and each block reads its share from the context.
"""

from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

CHART_TYPES = [
    ("bar", "Bar"),
    ("horizontal_bar", "Horizontal bar"),
    ("stacked_bar", "Stacked bar"),
    ("line", "Line"),
    ("doughnut", "Doughnut"),
]


class ChartBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=200)
    metrics = blocks.ListBlock(
        SnippetChooserBlock("stats.Metric"), min_num=1, help_text="One or more metrics to plot."
    )
    jurisdictions = blocks.ListBlock(
        SnippetChooserBlock("stats.Jurisdiction"),
        min_num=1,
        help_text="Missouri, the nation, a federal district...",
    )
    from_year = blocks.IntegerBlock(required=False, min_value=1990, help_text="Empty: earliest.")
    to_year = blocks.IntegerBlock(required=False, min_value=1990, help_text="Empty: latest.")
    by_breakdown = blocks.BooleanBlock(
        required=False,
        help_text="Show the metric's categories (type of trafficking, channel...) "
        "instead of its total.",
    )
    chart_type = blocks.ChoiceBlock(choices=CHART_TYPES, default="bar")
    description = blocks.TextBlock(
        help_text="A sentence or two saying what the chart shows. Screen readers read it "
        "instead of the picture."
    )
    note = blocks.TextBlock(required=False, help_text="Optional note shown under the chart.")

    class Meta:
        icon = "chart"
        label = "Chart"


class KeyFigureBlock(blocks.StructBlock):
    metric = SnippetChooserBlock("stats.Metric")
    jurisdiction = SnippetChooserBlock("stats.Jurisdiction")
    year = blocks.IntegerBlock(required=False, min_value=1990, help_text="Empty: the latest.")
    label = blocks.CharBlock(
        required=False, max_length=200, help_text="Empty: the metric's own label."
    )
    show_national = blocks.BooleanBlock(
        required=False, default=True, help_text="Show the national figure beside it."
    )

    class Meta:
        icon = "pick"
        label = "Key figure"


class KeyFigureRowBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)
    figures = blocks.ListBlock(KeyFigureBlock(), min_num=1)

    class Meta:
        icon = "pick"
        label = "Row of key figures"


class StackUpBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)
    jurisdiction = SnippetChooserBlock("stats.Jurisdiction")
    year = blocks.IntegerBlock(min_value=1990)
    metrics = blocks.ListBlock(
        SnippetChooserBlock("stats.Metric"),
        min_num=1,
        help_text="New cases, active cases, convictions, restitution...",
    )

    class Meta:
        icon = "list-ol"
        label = "How does the state stack up"


class RankedListBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=200)
    metric = SnippetChooserBlock("stats.Metric", help_text="A metric whose unit is rank.")
    jurisdiction = SnippetChooserBlock("stats.Jurisdiction")
    limit = blocks.IntegerBlock(default=5, min_value=1, max_value=20)

    class Meta:
        icon = "list-ol"
        label = "Ranked list"


class SourceListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)
    sources = blocks.ListBlock(
        SnippetChooserBlock("stats.Source"),
        required=False,
        help_text="Empty: every source edition in the store.",
    )

    class Meta:
        icon = "doc-full"
        label = "Sources and methodology"


class DataDownloadsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200, default="Download the data")

    class Meta:
        icon = "download"
        label = "Data downloads"
