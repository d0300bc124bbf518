"""Blocks that list the snippets editors keep (statutes, organizations, hotlines...)."""

from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from .models import Organization, Publication, Statute


class StatuteListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)
    category = blocks.ChoiceBlock(
        choices=Statute.Category.choices, required=False, help_text="Empty: every category."
    )

    class Meta:
        icon = "doc-full-inverse"
        label = "Statutes"


class OrganizationListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)
    kinds = blocks.MultipleChoiceBlock(
        choices=Organization.Kind.choices, required=False, help_text="Empty: every kind."
    )

    class Meta:
        icon = "group"
        label = "Organizations"


class PublicationListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)
    kinds = blocks.MultipleChoiceBlock(
        choices=Publication.Kind.choices, required=False, help_text="Empty: every kind."
    )

    class Meta:
        icon = "doc-empty"
        label = "Publications and trainings"


class FundingListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "tag"
        label = "Funding opportunities"


class CampaignListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "bullhorn"
        label = "Campaigns"


class HotlineListBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "mobile-alt"
        label = "Hotlines"


class HotlineCalloutBlock(blocks.StructBlock):
    hotline = SnippetChooserBlock(
        "resources.Hotline", required=False, help_text="Empty: the national hotline from settings."
    )
    message = blocks.CharBlock(required=False, max_length=255)

    class Meta:
        icon = "warning"
        label = "Hotline call-out"
