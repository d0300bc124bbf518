"""Blocks that list the snippets editors keep (statutes, organizations, hotlines...)."""

from itertools import groupby

from wagtail import blocks
from wagtail.models import Site
from wagtail.snippets.blocks import SnippetChooserBlock

from resources.models import (
    Campaign,
    FundingOpportunity,
    Hotline,
    Organization,
    Publication,
    Statute,
    localized,
)


def request_site(context):
    """The Wagtail site of the request being rendered (None without a request)."""
    request = (context or {}).get("request")
    return Site.find_for_request(request) if request is not None else None


class SnippetListBlock(blocks.StructBlock):
    """A list of one kind of snippet: the live items of the site's state."""

    model = None

    def live_items(self, context):
        """The site's live items in the editors' order: from the page's batch (list_batch), or
        with a query of the block's own when it is rendered outside a page."""
        batch = (context or {}).get("snippet_lists") or {}
        if self.model in batch:
            return batch[self.model]
        return list(self.model.objects.for_site(request_site(context)))

    def get_items(self, value, items):
        """The items this block shows, out of the site's live items (their order kept)."""
        if value.get("kinds"):  # blocks with a `kinds` field filter by the model's `kind`
            items = [item for item in items if item.kind in value["kinds"]]
        return items

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["items"] = self.get_items(value, self.live_items(parent_context))
        return context


def list_batch(stream_value, request):
    """The live items of every list model the stream's blocks show, for the request's site and
    in the page's language: one query a model, whatever the number of blocks."""
    needed = {c.block.model for c in stream_value or () if isinstance(c.block, SnippetListBlock)}
    site = request_site({"request": request})
    return {model: list(model.objects.for_site(site)) for model in needed}


class StatuteListBlock(SnippetListBlock):
    model = Statute
    heading = blocks.CharBlock(required=False, max_length=200)
    category = blocks.ChoiceBlock(
        choices=Statute.Category.choices, required=False, help_text="Empty: every category."
    )

    class Meta:
        icon = "doc-full-inverse"
        label = "Statutes"
        template = "resources/blocks/statutes.html"

    def get_items(self, value, items):
        if value.get("category"):
            items = [s for s in items if s.category == value["category"]]
        return items

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        # Statutes an editor has put in a category are grouped under it, in the order the
        # categories are declared; the others follow in the editors' order, with no heading
        # of the portal's own (a source's list keeps its order).
        order = {key: i for i, key in enumerate(Statute.Category.values)}
        items = sorted(
            context["items"],
            key=lambda s: order.get(s.category, len(order)) if s.category else len(order) + 1,
        )
        labels = dict(Statute.Category.choices)
        context["groups"] = [
            {"category": key, "label": labels.get(key, key) if key else "", "items": list(group)}
            for key, group in groupby(items, key=lambda s: s.category)
        ]
        return context


class OrganizationListBlock(SnippetListBlock):
    model = Organization
    heading = blocks.CharBlock(required=False, max_length=200)
    kinds = blocks.MultipleChoiceBlock(
        choices=Organization.Kind.choices, required=False, help_text="Empty: every kind."
    )

    class Meta:
        icon = "group"
        label = "Organizations"
        template = "resources/blocks/organizations.html"


class PublicationListBlock(SnippetListBlock):
    model = Publication
    heading = blocks.CharBlock(required=False, max_length=200)
    kinds = blocks.MultipleChoiceBlock(
        choices=Publication.Kind.choices, required=False, help_text="Empty: every kind."
    )

    class Meta:
        icon = "doc-empty"
        label = "Publications and trainings"
        template = "resources/blocks/publications.html"


class FundingListBlock(SnippetListBlock):
    model = FundingOpportunity
    heading = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "tag"
        label = "Funding opportunities"
        template = "resources/blocks/funding.html"


class CampaignListBlock(SnippetListBlock):
    model = Campaign
    heading = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "pick"
        label = "Campaigns"
        template = "resources/blocks/campaigns.html"


class HotlineListBlock(SnippetListBlock):
    model = Hotline
    heading = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "mobile-alt"
        label = "Hotlines"
        template = "resources/blocks/hotlines.html"

    def get_items(self, value, items):
        # National lines first, then the state's, then local ones.
        order = {scope: i for i, scope in enumerate(Hotline.Scope.values)}
        return sorted(items, key=lambda h: (order.get(h.scope, 9), h.sort_order))


class HotlineCalloutBlock(blocks.StructBlock):
    hotline = SnippetChooserBlock(
        "resources.Hotline", required=False, help_text="Empty: the national hotline from settings."
    )
    message = blocks.CharBlock(required=False, max_length=255)

    class Meta:
        icon = "warning"
        label = "Hotline call-out"
        template = "resources/blocks/hotline_callout.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        hotline = value.get("hotline")
        if hotline is None or not hotline.live:
            # The header's national hotline, already read (live only, in the page's language)
            # with the site settings.
            header = (parent_context or {}).get("header_hotlines") or {}
            hotline = header.get("national")
        else:
            hotline = localized(hotline)  # its text in the page's language, when translated
        context["hotline"] = hotline
        return context
