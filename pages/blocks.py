"""The one StreamBlock that every content page uses."""

from wagtail import blocks

from resources import blocks as resource_blocks
from stats.display import blocks as stats_blocks


class SectionHeadingBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=200)
    anchor = blocks.CharBlock(
        required=False, max_length=60, help_text="Optional id for links to this section."
    )

    class Meta:
        icon = "title"
        label = "Section heading"
        template = "pages/blocks/section_heading.html"


class EditorNoteBlock(blocks.TextBlock):
    """A note to the portal's editors: shown in the preview, never to visitors."""

    class Meta:
        icon = "help"
        label = "Note for editors"
        template = "pages/blocks/editor_note.html"
        description = "Shown only in the preview, to editors: never on the published page."
        preview_value = "Add the link to each section's official text in Resources."

    def get_preview_context(self, value, parent_context=None):
        return stats_blocks.mark_block_preview(super().get_preview_context(value, parent_context))

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["for_editors"] = stats_blocks.is_preview(parent_context or {})
        return context


class FooterLinkBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=100)
    page = blocks.PageChooserBlock()

    class Meta:
        icon = "link"


class ContentStreamBlock(blocks.StreamBlock):
    heading = SectionHeadingBlock()
    text = blocks.RichTextBlock(
        features=["h3", "h4", "bold", "italic", "link", "ol", "ul", "document-link"]
    )
    key_figure = stats_blocks.KeyFigureBlock()
    key_figures = stats_blocks.KeyFigureRowBlock()
    chart = stats_blocks.ChartBlock()
    stack_up = stats_blocks.StackUpBlock()
    state_map = stats_blocks.MapBlock()
    ranked_list = stats_blocks.RankedListBlock()
    sources = stats_blocks.SourceListBlock()
    data_downloads = stats_blocks.DataDownloadsBlock()
    hotline_callout = resource_blocks.HotlineCalloutBlock()
    hotlines = resource_blocks.HotlineListBlock()
    statutes = resource_blocks.StatuteListBlock()
    organizations = resource_blocks.OrganizationListBlock()
    publications = resource_blocks.PublicationListBlock()
    funding = resource_blocks.FundingListBlock()
    campaigns = resource_blocks.CampaignListBlock()
    editor_note = EditorNoteBlock()
