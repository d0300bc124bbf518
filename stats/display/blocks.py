"""StreamField blocks that draw figures from the statistics store.

Every block declares the observations it needs (`figure_selections`); the page fetches them all
in one batched query (stats/display/batch.py) and each block reads its share from
`parent_context["figure_store"]`. Rendered without a store (the block picker's preview, a block
rendered on its own), a block fetches its own figures.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext
from wagtail import blocks
from wagtail.blocks import StructBlockValidationError
from wagtail.snippets.blocks import SnippetChooserBlock

from stats.display import shaping
from stats.display.batch import FigureStore, Selection, prefetched_snippets
from stats.models import Observation
from stats.store.periods import FIRST_YEAR, last_year


class FigureChooserBlock(SnippetChooserBlock):
    """A snippet chooser whose lookups a page batches across all its blocks.

    `FigureStore.for_stream` reads every chosen metric, place and source id from the page's raw
    stream and fetches each model once; here the conversion takes them from that batch instead
    of one lookup per block type. Stored in migrations as a plain SnippetChooserBlock.
    """

    batched = True  # see stats.display.batch.collect_chosen_ids

    def __init__(self, target_model, **kwargs):
        super().__init__(target_model, **kwargs)
        # An item of a list has no name to take a label from: without one the editor shows a
        # bare "*" above each chosen metric or place. Not a constructor argument, so the
        # stored block definition (and the migrations) stay as they were.
        if not self.label and isinstance(target_model, str):
            self.label = target_model.rsplit(".", 1)[-1]

    def bulk_to_python(self, values):
        known = prefetched_snippets(self.model_class)
        if known is None:
            return super().bulk_to_python(values)
        return [known.get(v) if v is not None else None for v in values]

    def to_python(self, value):
        known = prefetched_snippets(self.model_class)
        if known is None or value is None:
            return super().to_python(value)
        return known.get(value)

    def deconstruct(self):
        _path, args, kwargs = super().deconstruct()
        return ("wagtail.snippets.blocks.SnippetChooserBlock", args, kwargs)


class YearBlock(blocks.IntegerBlock):
    """A year chosen from a list (the newest first), stored as a plain integer.

    The list runs from the first year the store accepts to next year, worked out when the
    form is drawn. Stored in migrations as the IntegerBlock it is.
    """

    def __init__(self, *, blank_label, required=False, min_value=FIRST_YEAR, **kwargs):
        super().__init__(required=required, min_value=min_value, **kwargs)
        self.field.validators.append(MaxValueValidator(last_year))

        def years():
            return [("", blank_label)] + [
                (year, str(year)) for year in range(last_year(), FIRST_YEAR - 1, -1)
            ]

        self.field.widget = forms.Select(choices=years)

    def deconstruct(self):
        _path, args, kwargs = super().deconstruct()
        kwargs.pop("blank_label", None)
        return ("wagtail.blocks.IntegerBlock", args, kwargs)


CHART_TYPES = [
    ("bar", "Bar"),
    ("horizontal_bar", "Horizontal bar"),
    ("stacked_bar", "Stacked bar"),
    ("line", "Line"),
    ("doughnut", "Doughnut"),
]

PREVIEW_TEMPLATE = "stats/blocks/preview.html"


# Set in the block picker's preview context (mark_block_preview).
BLOCK_PREVIEW = "is_block_preview"


def mark_block_preview(context):
    """A block's get_preview_context: its preview in the block picker says it is one."""
    return {**context, BLOCK_PREVIEW: True}


def is_preview(context):
    """True in the editor's page preview and in the block picker's preview."""
    request = context.get("request")
    return bool(getattr(request, "is_preview", False)) or bool(context.get(BLOCK_PREVIEW))


def figure_store(block, value, parent_context):
    store = (parent_context or {}).get("figure_store")
    if store is None:
        store = FigureStore.for_block(block, value)
    return store


def anchor_for(store, block_id, prefix="figure"):
    """A permalink anchor for a figure: from its StreamField block id, which survives edits
    to the rest of the page (reordering, new blocks); a counter only where there is no id."""
    if block_id:
        return store.unique_id(f"{prefix}-{str(block_id)[:8]}")
    return store.next_id(prefix)


class FigureBlockMixin:
    """Shared by the figure blocks: the store, whether we are in a preview, the figure's
    permalink anchor, and the notes already said in its section of the page."""

    def get_preview_context(self, value, parent_context=None):
        return mark_block_preview(super().get_preview_context(value, parent_context))

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["is_preview"] = is_preview(context)
        context["figure_store"] = figure_store(self, value, parent_context)
        context["anchor"] = anchor_for(context["figure_store"], context.get("block_id"))
        return context

    @staticmethod
    def unsaid(context, notes):
        """The notes not yet said by an earlier figure of the same section of the page."""
        return context["figure_store"].unsaid(context.get("section"), notes)


# Preview values: real figures from the store when it has some, so the picker shows a real block.


def _sample(**filters):
    return (
        Observation.objects.filter(jurisdiction__kind="state", **filters)
        .select_related("metric", "jurisdiction")
        .order_by("-period_end", "metric__label")
        .first()
    )


def _preview_chart():
    o = _sample(breakdown__isnull=True, metric__unit="count")
    value = {
        "title": "Example chart",
        "chart_type": "bar",
        "description": "A bar chart of one figure over the years.",
        "metrics": [],
        "jurisdictions": [],
    }
    if o:
        value.update(
            title=f"{o.metric.label}, {o.jurisdiction.name}",
            metrics=[o.metric],
            jurisdictions=[o.jurisdiction],
            description=f"{o.metric.label} in {o.jurisdiction.name}, year by year.",
        )
    return value


def _preview_key_figure():
    o = _sample(breakdown__isnull=True)
    if not o:
        return {}
    return {"metric": o.metric, "jurisdiction": o.jurisdiction, "show_national": True}


def _preview_key_figure_row():
    figure = _preview_key_figure()
    return {"heading": "Key figures", "figures": [figure] if figure else []}


def _preview_stack_up():
    o = _sample(breakdown__isnull=True, metric__unit="count")
    if not o:
        return {"year": 2019, "metrics": []}
    return {"jurisdiction": o.jurisdiction, "year": o.period_end.year, "metrics": [o.metric]}


def _preview_ranked_list():
    o = _sample(breakdown__isnull=False, metric__unit="rank")
    if not o:
        return {"title": "Top venues", "limit": 5}
    return {"title": o.metric.label, "metric": o.metric, "jurisdiction": o.jurisdiction, "limit": 5}


class ChartBlock(FigureBlockMixin, blocks.StructBlock):
    title = blocks.CharBlock(max_length=200, help_text="The chart's caption.")
    metrics = blocks.ListBlock(
        FigureChooserBlock("stats.Metric"), min_num=1, help_text="One or more metrics to plot."
    )
    jurisdictions = blocks.ListBlock(
        FigureChooserBlock("stats.Jurisdiction"),
        min_num=1,
        help_text="The state, the nation, a federal district...",
    )
    from_year = YearBlock(
        blank_label="Earliest", required=False, min_value=1990, help_text="Empty: earliest."
    )
    to_year = YearBlock(
        blank_label="Latest", required=False, min_value=1990, help_text="Empty: latest."
    )
    by_breakdown = blocks.BooleanBlock(
        required=False,
        help_text="Show the metric's categories (type of trafficking, channel...) "
        "instead of its total.",
    )
    chart_type = blocks.ChoiceBlock(
        choices=CHART_TYPES,
        default="bar",
        help_text="Line for a trend over years; doughnut for the parts of one year (the latest).",
    )
    description = blocks.TextBlock(
        help_text="A sentence or two saying what the chart shows. Screen readers read it "
        "instead of the picture."
    )
    note = blocks.TextBlock(required=False, help_text="Optional note shown under the chart.")

    class Meta:
        icon = "table"
        label = "Chart"
        template = "stats/blocks/chart.html"
        preview_template = PREVIEW_TEMPLATE
        description = (
            "A chart of figures from the statistics store, with its source, footnotes, "
            "a table of the same data and a CSV download."
        )

    def get_preview_value(self):
        # Real figures from the store, so the block picker shows a real block.
        return self.normalize(_preview_chart())

    def clean(self, value):
        value = super().clean(value)
        first, last = value.get("from_year"), value.get("to_year")
        if first and last and first > last:
            raise StructBlockValidationError(
                block_errors={"to_year": ValidationError("The last year is before the first.")}
            )
        return value

    def figure_selections(self, value):
        return [
            Selection.of(
                value.get("metrics") or (),
                value.get("jurisdictions") or (),
                breakdown=bool(value.get("by_breakdown")),
                from_year=value.get("from_year"),
                to_year=value.get("to_year"),
            )
        ]

    def plotted(self, value, store):
        """Exactly the observations the chart shows (its CSV)."""
        (selection,) = self.figure_selections(value)
        chart = shaping.build_chart(value, store.observations(selection))
        return chart["observations"] if chart else []

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        (selection,) = self.figure_selections(value)
        chart = shaping.build_chart(value, context["figure_store"].observations(selection))
        context["chart"] = chart
        if chart:
            context["chart_id"] = chart_id = context["anchor"]
            context["data_id"] = f"{chart_id}-data"
            notes = self.unsaid(context, [*chart["footnotes"], chart["note"]])
            chart["footnotes"] = [n for n in chart["footnotes"] if n in notes]
            chart["note"] = chart["note"] if chart["note"] in notes else ""
            context["figure_store"].drawn("figure" if chart["single"] else "chart")
            context.update(shaping.figure_links(context, value.get("title"), chart["sources"]))
        return context


class KeyFigureBlock(FigureBlockMixin, blocks.StructBlock):
    metric = FigureChooserBlock("stats.Metric", help_text="The figure to show.")
    jurisdiction = FigureChooserBlock("stats.Jurisdiction", help_text="Usually the state.")
    # A list of years, as a chart's years are (stored as the IntegerBlock it was).
    year = YearBlock(
        blank_label="Latest", required=False, min_value=1990, help_text="Empty: the latest."
    )
    label = blocks.CharBlock(
        required=False, max_length=200, help_text="Empty: the metric's own label."
    )
    show_national = blocks.BooleanBlock(
        required=False, default=True, help_text="Show the national figure beside it."
    )
    edition = FigureChooserBlock(
        "stats.Source",
        required=False,
        help_text="In a section about one report: that edition's own value is shown, the "
        "others' in the note. Empty: the newest edition's value.",
    )

    class Meta:
        icon = "decimal"
        label = "Key figure"
        template = "stats/blocks/key_figure.html"
        preview_template = PREVIEW_TEMPLATE
        description = (
            'One large number with its label and period ("92 months", "11th in the nation"), '
            "the national figure and rank beside it."
        )

    def get_preview_value(self):
        # Real figures from the store, so the block picker shows a real block.
        return self.normalize(_preview_key_figure())

    def figure_selections(self, value):
        metric, jurisdiction = value.get("metric"), value.get("jurisdiction")
        return [
            Selection.of(
                [metric],
                [jurisdiction],
                end_year=value.get("year"),
                national=bool(value.get("show_national")),
            )
        ]

    def figure(self, value, store):
        metric, jurisdiction = value.get("metric"), value.get("jurisdiction")
        (selection,) = self.figure_selections(value)
        if selection.is_empty:
            return None
        observations = store.observations(selection)
        edition = value.get("edition")
        if edition is not None:
            observations = [shaping.as_published_in(o, edition) for o in observations]
        return shaping.key_figure(
            metric, jurisdiction, observations, show_national=bool(value.get("show_national"))
        )

    def plotted(self, value, store):
        """The observations the key figure shows: its own, and the nation's beside it."""
        figure = self.figure(value, store)
        if not figure:
            return []
        return [o for o in (figure["observation"], figure["national"]) if o]

    @staticmethod
    def label_of(value):
        metric = value.get("metric")
        return value.get("label") or (metric.display_label if metric else "")

    @staticmethod
    def mark_place(figure, label):
        """A label that already names the place ("...Directory in <state>") is not followed
        by the place again."""
        place = figure["jurisdiction"].display_name
        figure["label_names_place"] = place.casefold() in label.casefold()

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        figure = self.figure(value, context["figure_store"])
        context["figure"] = figure
        context["label"] = label = self.label_of(value)
        if figure:
            figure["footnotes"] = self.unsaid(context, figure["footnotes"])
            self.mark_place(figure, label)
            context["figure_store"].drawn("figure")
            context.update(shaping.figure_links(context, label, figure["sources"]))
        return context


class KeyFigureRowBlock(FigureBlockMixin, blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200, help_text="Optional heading.")
    figures = blocks.ListBlock(KeyFigureBlock(), min_num=1)

    class Meta:
        icon = "grid"
        label = "Row of key figures"
        template = "stats/blocks/key_figure_row.html"
        preview_template = PREVIEW_TEMPLATE
        description = "Two to four key figures side by side."

    def get_preview_value(self):
        # Real figures from the store, so the block picker shows a real block.
        return self.normalize(_preview_key_figure_row())

    def figure_selections(self, value):
        child = self.child_blocks["figures"].child_block
        return [s for item in value.get("figures") or () for s in child.figure_selections(item)]

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        child = self.child_blocks["figures"].child_block
        store = context["figure_store"]
        listed = value.get("figures") or ()
        # Each figure's permalink and CSV use its own list item's id.
        ids = [getattr(b, "id", None) for b in getattr(listed, "bound_blocks", ())]
        ids += [None] * (len(listed) - len(ids))
        # Each figure is worked out once, here, and its template rendered with it.
        items = []
        for item, item_id in zip(listed, ids, strict=True):
            figure = child.figure(item, store)
            label = child.label_of(item)
            entry = {"figure": figure, "label": label, "anchor": anchor_for(store, item_id)}
            if figure:
                figure["footnotes"] = self.unsaid(context, figure["footnotes"])
                child.mark_place(figure, label)
                store.drawn("figure")
                entry.update(
                    shaping.figure_links(
                        {**context, "block_id": item_id, "anchor": entry["anchor"]},
                        label,
                        figure["sources"],
                    )
                )
            items.append(entry)
        context["items"] = items
        shown = [item["figure"] for item in items if item["figure"]]
        context["has_figures"] = bool(shown)
        # When every figure of the row has the same sources, name them once, under the row.
        editions = {tuple(line["source"].pk for line in f["sources"]) for f in shown}
        context["shared_sources"] = shown[0]["sources"] if len(editions) == 1 else None
        return context


class StackUpBlock(FigureBlockMixin, blocks.StructBlock):
    heading = blocks.CharBlock(
        required=False, max_length=200, help_text='Empty: "How does <state> stack up?"'
    )
    jurisdiction = FigureChooserBlock("stats.Jurisdiction", help_text="Usually the state.")
    year = blocks.IntegerBlock(min_value=1990, help_text="The year compared.")
    metrics = blocks.ListBlock(
        FigureChooserBlock("stats.Metric"),
        min_num=1,
        help_text="New cases, active cases, convictions, restitution...",
    )
    edition = FigureChooserBlock(
        "stats.Source",
        required=False,
        help_text="The report edition this comparison belongs to. Its own values are shown; "
        "a value only another edition published is marked with that edition.",
    )

    class Meta:
        icon = "order"
        label = "How does the state stack up"
        template = "stats/blocks/stack_up.html"
        preview_template = PREVIEW_TEMPLATE
        description = (
            "For one year, the state's figures, each with its national rank and the "
            "national figure."
        )

    def get_preview_value(self):
        # Real figures from the store, so the block picker shows a real block.
        return self.normalize(_preview_stack_up())

    def figure_selections(self, value):
        return [
            Selection.of(
                value.get("metrics") or (),
                [value.get("jurisdiction")],
                end_year=value.get("year"),
                national=True,
            )
        ]

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        jurisdiction = value.get("jurisdiction")
        (selection,) = self.figure_selections(value)
        observations = context["figure_store"].observations(selection)
        edition = value.get("edition")
        if edition is not None:
            observations = [shaping.as_published_in(o, edition) for o in observations]
        rows = []
        for metric in value.get("metrics") or ():
            if metric is None or jurisdiction is None:
                continue
            mine = [o for o in observations if o.metric_id == metric.pk]
            figure = shaping.key_figure(metric, jurisdiction, mine)
            if figure:
                rows.append(figure)
        shaping.mark_editions(rows, edition)
        context["rows"] = rows
        context["heading"] = value.get("heading") or (
            gettext("How does %(place)s stack up?") % {"place": jurisdiction.display_name}
            if jurisdiction
            else ""
        )
        shown = [o for r in rows for o in (r["observation"], r["national"]) if o]
        context["sources"] = shaping.source_lines(shown)
        context["footnotes"] = self.unsaid(
            context,
            shaping.footnotes(
                (
                    f"{o.metric.display_label}, {o.jurisdiction.display_name}, {o.period_label}",
                    o,
                )
                for o in shown
            ),
        )
        return context


class RankedListBlock(FigureBlockMixin, blocks.StructBlock):
    title = blocks.CharBlock(max_length=200, help_text="For example: Top venues.")
    metric = FigureChooserBlock("stats.Metric", help_text="A metric whose unit is rank.")
    jurisdiction = FigureChooserBlock("stats.Jurisdiction")
    limit = blocks.IntegerBlock(default=5, min_value=1, max_value=20)

    class Meta:
        icon = "list-ol"
        label = "Ranked list"
        template = "stats/blocks/ranked_list.html"
        preview_template = PREVIEW_TEMPLATE
        description = "The top categories of a ranked metric, such as the top five venues."

    def get_preview_value(self):
        # Real figures from the store, so the block picker shows a real block.
        return self.normalize(_preview_ranked_list())

    def clean(self, value):
        value = super().clean(value)
        metric = value.get("metric")
        if metric is not None and metric.unit != "rank":
            raise StructBlockValidationError(
                block_errors={
                    "metric": ValidationError(
                        f'"{metric}" is not a ranking (its unit is {metric.get_unit_display()}).'
                    )
                }
            )
        return value

    def figure_selections(self, value):
        return [Selection.of([value.get("metric")], [value.get("jurisdiction")], breakdown=True)]

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        (selection,) = self.figure_selections(value)
        ranking = shaping.ranked_categories(
            context["figure_store"].observations(selection), value.get("limit") or 5
        )
        if ranking:
            ranking["footnotes"] = self.unsaid(context, ranking["footnotes"])
        context["ranking"] = ranking
        return context


class MapBlock(FigureBlockMixin, blocks.StructBlock):
    title = blocks.CharBlock(max_length=200, help_text="The map's caption.")
    metric = FigureChooserBlock("stats.Metric", help_text="The figure to show for each state.")
    year = blocks.IntegerBlock(min_value=1990, help_text="The year shown.")
    description = blocks.TextBlock(
        help_text="A sentence or two saying what the map shows. Screen readers read it "
        "instead of the picture."
    )

    class Meta:
        icon = "site"
        label = "US map"
        template = "stats/blocks/map.html"
        preview_template = PREVIEW_TEMPLATE
        description = (
            "One figure by state for one year, on a map of the United States with a table of "
            "the same data; the site's state and its rank are highlighted. Shown only when the "
            "statistics store holds the figure for enough states to compare."
        )

    def get_preview_value(self):
        o = _sample(breakdown__isnull=True, metric__unit="count")
        value = {
            "title": "Example map",
            "year": 2019,
            "description": "One figure for each state.",
        }
        if o:
            value.update(title=o.metric.label, metric=o.metric, year=o.period_end.year)
        return self.normalize(value)

    def figure_selections(self, value):
        return [
            Selection.of([value.get("metric")], [], end_year=value.get("year"), every_state=True)
        ]

    def plotted(self, value, store):
        (selection,) = self.figure_selections(value)
        found, _reason = shaping.state_map(
            store.observations(selection), "", settings.PORTAL_MAP_MIN_STATES
        )
        return found["observations"] if found else []

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        (selection,) = self.figure_selections(value)
        # The page that renders the block says whose site it is (pages.models).
        site_state = context.get("site_state")
        found, reason = shaping.state_map(
            context["figure_store"].observations(selection) if not selection.is_empty else [],
            site_state.code if site_state else "",
            settings.PORTAL_MAP_MIN_STATES,
        )
        context["map"], context["reason"] = found, reason
        if found:
            context["map_id"] = context["anchor"]
            context["data_id"] = f"{context['anchor']}-data"
            found["footnotes"] = self.unsaid(context, found["footnotes"])
            context["figure_store"].drawn("map")
            context.update(shaping.figure_links(context, value.get("title"), found["sources"]))
        return context


class SourceListBlock(FigureBlockMixin, blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200, help_text="Optional heading.")
    sources = blocks.ListBlock(
        FigureChooserBlock("stats.Source"),
        required=False,
        help_text="Empty: every source edition in the store.",
    )

    class Meta:
        icon = "doc-full"
        label = "Sources and methodology"
        template = "stats/blocks/source_list.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {"heading": "Sources and methodology"}
        description = (
            "Each source edition with its publisher, coverage, the date its data is as of, "
            "methodology and limitations."
        )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        chosen = [s for s in value.get("sources") or () if s is not None]
        store = context["figure_store"]
        context["source_list"] = store.sources_in_state_words(chosen) or store.all_sources()
        return context


class DataDownloadsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200, default="Download the data")

    class Meta:
        icon = "download"
        label = "Data downloads"
        template = "stats/blocks/data_downloads.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {"heading": "Download the data"}
        description = "Links to download every figure as CSV, Excel or JSON."

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        store = (parent_context or {}).get("figure_store")
        if store is not None:
            store.drawn("places")  # the page loads the place chooser's script
        return context
