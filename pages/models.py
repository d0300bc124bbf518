"""Page types and site settings of a state's site."""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from pages.blocks import ContentStreamBlock, FooterLinkBlock
from pages.search import rendered_body_text
from portal.memo import remembered
from resources.blocks import list_batch
from stats.display.batch import FigureStore
from stats.models import VersionCounter
from stats.store.history import parse_moment


def validate_time_zone(value):
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name (e.g. America/Chicago).")


def site_state(request):
    """The state the request's site is about (its settings' jurisdiction), or None."""
    if request is None:
        return None
    return SiteSettings.for_request(request).jurisdiction


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
    safety_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="staying safe online page",
        help_text="Advice on covering one's tracks, linked beside the quick exit on every page.",
    )
    help_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="get help page",
        help_text="The page that lists every hotline with its source: the header's hotlines "
        "link to their entries there.",
    )
    footer_links = StreamField(
        [("link", FooterLinkBlock())], blank=True, help_text="Links at the foot of every page."
    )
    data_contact_email = models.EmailField(
        blank=True,
        help_text="Where questions about the site's figures and API go, as the state's pack "
        "names it. /data.json lists the API (a DCAT-US DataService, which needs a contact) only "
        "when it is given.",
    )
    time_zone = models.CharField(
        max_length=60,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The state's time zone (e.g. America/Chicago): the site shows dates and release "
        "times in it. The install stores every time in UTC.",
    )

    # The header's hotlines and pages are read in the page's language, one query each
    # (pages/context_processors.py), so only the state is fetched with the settings.
    select_related = ["jurisdiction"]

    panels = [
        FieldPanel("jurisdiction"),
        MultiFieldPanel(
            [FieldPanel("national_hotline"), FieldPanel("state_tipline")], "Hotlines in the header"
        ),
        FieldPanel("help_page"),
        MultiFieldPanel([FieldPanel("quick_exit_url"), FieldPanel("safety_page")], "Quick exit"),
        FieldPanel("footer_links"),
        FieldPanel("time_zone"),
        FieldPanel("data_contact_email"),
    ]


def figure_page_context(page, request):
    """What figure blocks need to cite and link to themselves: the page's absolute URL, the
    site's root URL (for embed codes), the portal's name, and the state whose site it is (the
    map highlights it)."""
    parts = page.get_url_parts(request) if page.pk else None
    root, path = (parts[1], parts[2]) if parts else ("", "")
    jurisdiction = SiteSettings.for_request(request).jurisdiction if request else None
    state = jurisdiction.display_name if jurisdiction else ""
    return {
        "site_state": jurisdiction,
        "cited_at": timezone.now(),
        "page_url": f"{root}{path}" if root else "",
        "site_root_url": root or "",
        "portal_name": (
            gettext("%(state)s Human Trafficking Data Portal") % {"state": state} if state else ""
        ),
    }


class BasePage(Page):
    """What every content page has: an introduction and the shared stream of blocks."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    body = StreamField(ContentStreamBlock(), blank=True)

    # The body is searched as a visitor reads it: with the statutes, hotlines, figure labels
    # and sources its blocks show (pages.search).
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("search_text"),
    ]

    def get_view_restrictions(self):
        """Wagtail's: the restrictions of this page and its ancestors (an alias checks its
        original). Which pages those are is the page tree's, remembered per site structure
        version (a move, a publish or a view restriction bumps it): one query, not two."""
        if self.pk is None:
            return super().get_view_restrictions()
        ids = remembered(("restriction-pages", self.pk), self._restriction_page_ids)
        return PageViewRestriction.objects.filter(page_id__in=ids)

    def _restriction_page_ids(self):
        pages = [self, *self.get_ancestors().only("alias_of")]
        return sorted({page.alias_of_id or page.pk for page in pages})

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    class Meta:
        abstract = True

    def search_text(self):
        return rendered_body_text(self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # One batched fetch for every figure the page's blocks need.
        as_of = parse_moment(request.GET.get("as_of")) if request else None
        context["figure_store"] = FigureStore.for_stream(
            self.body, state=site_state(request), as_of=as_of
        )
        context["figures_as_of"] = as_of
        # And one for the items of each kind of list (statutes, organizations...) they show.
        context["snippet_lists"] = list_batch(self.body, request)
        context.update(figure_page_context(self, request))
        # Blocks after a section heading sit inside that section: their own headings are h3.
        # A note several figures of one section share is said once in it (stats.display.shaping).
        levels, level, section = [], 2, 0
        for block in self.body:
            if block.block_type == "heading":
                section += 1
            levels.append((block, level, section))
            if block.block_type == "heading":
                level = 3
        context["body_blocks"] = levels
        # The safety guidance is shown first in a hotline call-out; a list of hotlines shows
        # it only on a page without one.
        context["help_callout_on_page"] = any(b.block_type == "hotline_callout" for b in self.body)
        return context


class HomePage(BasePage):
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["pages.TopicPage"]
    template = "pages/home_page.html"


class TopicPage(BasePage):
    parent_page_types = ["pages.HomePage", "pages.TopicPage"]
    subpage_types = ["pages.TopicPage"]
    template = "pages/topic_page.html"


class ContentVersion(VersionCounter):
    """The version of what public pages show besides figures: one row, bumped in the writer's
    transaction by every publish, unpublish, move or delete of a page, every change of a view
    restriction, a snippet, the site settings or a Site (portal/signals.py).

    With stats' DataVersion it keys every cached page (portal/cache.py): the validity of a copy
    lives in the database with the truth, not in the cache, so a cache that loses a write or
    comes back from an old snapshot holds copies nobody asks for, never one served as current.
    Whatever a process remembers of sites (hostnames, Wagtail's site root paths) is keyed by it
    too: `structure`, bumped with `value` by the changes of sites and of the page tree only."""

    structure = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "content version"

    @classmethod
    def bump(cls, structure=False):
        """Increment the version (and the structure's, for a change of sites or of the page
        tree) in the caller's transaction, so it rolls back with the change."""
        super().bump(*(["structure"] if structure else []))
