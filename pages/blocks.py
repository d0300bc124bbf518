"""The one StreamBlock that every content page uses."""

from wagtail import blocks

from resources import blocks as resource_blocks
from stats import blocks as stats_blocks


class SectionHeadingBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=200)
    anchor = blocks.CharBlock(
        required=False, max_length=60, help_text="Optional id for links to this section."
    )

    class Meta:
        icon = "title"
        label = "Section heading"
        template = "pages/blocks/section_heading.html"


class EditorNoteBlock(blocks.StructBlock):
    """Something an editor must check or confirm: shown in previews and the admin, never to
    visitors (for instance a link the source document printed wrongly)."""

    note = blocks.TextBlock(help_text="What to check, and why. Visitors never see this.")

    class Meta:
        icon = "warning"
        label = "Note for editors"
        template = "pages/blocks/editor_note.html"
        description = "A note for editors about something to confirm. Never shown to visitors."

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["is_preview"] = stats_blocks.is_preview(context)
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
