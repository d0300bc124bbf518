"""Page types and site settings of a state's site."""

from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import ContentStreamBlock, FooterLinkBlock


@register_setting(icon="site")
class SiteSettings(BaseSiteSetting):
    jurisdiction = models.ForeignKey(
        "stats.Jurisdiction",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "state"},
        verbose_name="state",
        help_text="The state this site is about: its name heads every page.",
    )
    national_hotline = models.ForeignKey(
        "resources.Hotline",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown in the header of every page.",
    )
    state_tipline = models.ForeignKey(
        "resources.Hotline",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown in the header of every page.",
    )
    quick_exit_url = models.URLField(
        "quick exit destination",
        default="https://www.weather.gov/",
        help_text="A neutral site the 'Exit this page' button leads to.",
    )
    footer_links = StreamField(
        [("link", FooterLinkBlock())], blank=True, help_text="Links at the foot of every page."
    )

    # The header shows both hotlines on every page: fetch them with the settings.
    select_related = ["jurisdiction", "national_hotline", "state_tipline"]

    panels = [
        FieldPanel("jurisdiction"),
        MultiFieldPanel(
            [FieldPanel("national_hotline"), FieldPanel("state_tipline")], "Hotlines in the header"
        ),
        FieldPanel("quick_exit_url"),
        FieldPanel("footer_links"),
    ]


class BasePage(Page):
    """What every content page has: an introduction and the shared stream of blocks."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    body = StreamField(ContentStreamBlock(), blank=True)

    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    class Meta:
        abstract = True

    def get_context(self, request, *args, **kwargs):
        from stats.figures import FigureStore

        context = super().get_context(request, *args, **kwargs)
        # One batched fetch for every figure the page's blocks need.
        context["figures"] = FigureStore.for_stream(self.body)
        # Blocks after a section heading sit inside that section: their own headings are h3.
        levels, level = [], 2
        for block in self.body:
            levels.append((block, level))
            if block.block_type == "heading":
                level = 3
        context["body_blocks"] = levels
        return context


class HomePage(BasePage):
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["pages.TopicPage"]
    template = "pages/home_page.html"


class TopicPage(BasePage):
    parent_page_types = ["pages.HomePage", "pages.TopicPage"]
    subpage_types = ["pages.TopicPage"]
    template = "pages/topic_page.html"
