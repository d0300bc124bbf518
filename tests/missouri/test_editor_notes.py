"""Sentences that speak to editors are notes for editors: in the preview, never on the
published page; and the Laws introduction promises only what the page lists."""

import pytest
from django.core.cache import cache

from pages.models import TopicPage
from resources.models import Statute

pytestmark = pytest.mark.django_db

# Sentences addressed to editors (what they must add or fix), not the visitors' statements that
# editors keep the hotlines' details checked.
EDITOR_WORDS = (
    "once the portal's editors have added",
    "text version lost",
    "Note for editors",
    "Resources >",
)


@pytest.mark.parametrize("slug", ["laws", "statewide-efforts"])
def test_notes_for_editors_show_in_the_preview_only(missouri_site, client, slug):
    page = TopicPage.objects.get(slug=slug)
    published = client.get(page.url).content.decode()
    for words in EDITOR_WORDS:
        assert words not in published, f"{words!r} is shown to visitors on {slug}"
    # Wagtail's preview of the page (anonymous here, so the page cache must not answer it).
    cache.clear()
    preview = page.make_preview_request().content.decode()
    assert "Note for editors, not shown to visitors" in preview


def test_laws_intro_names_only_what_the_page_lists(missouri_site):
    page = TopicPage.objects.get(slug="laws")
    listed = " ".join(f"{s.citation} {s.title}".lower() for s in Statute.objects.filter(live=True))
    for promise in ("safe harbor", "vacating", "victim protection"):
        assert promise not in page.intro.lower() + page.search_description.lower()
    # What the intro names is in the statutes' own titles (the profile gives no categories).
    for named, in_titles in (
        ("sex trafficking", "sexual trafficking"),
        ("labor trafficking", "forced labor"),
        ("forfeiture", "forfeiture"),
    ):
        assert named in page.intro.lower() and in_titles in listed, named
