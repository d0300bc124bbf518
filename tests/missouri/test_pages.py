"""Each page type with Wagtail's page test helpers: routable, renderable, creatable, tree rules."""

import pytest
from django.urls import reverse
from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase, page_tests
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from pages.models import HomePage, TopicPage
from resources.models import Statute
from stats.models import Jurisdiction, Metric
from tests.content_fixtures import TOPICS

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.mark.usefixtures("missouri_pack")  # the Missouri site, loaded for the package
class PageTypeTests(WagtailPageTestCase):
    @classmethod
    def setUpClass(cls):
        # Wagtail's helpers log in with the first backend, django-axes' AxesStandaloneBackend,
        # which cannot load a user from the session. Log them in with Django's own backend.
        cls._auth_backend = page_tests.AUTH_BACKEND
        page_tests.AUTH_BACKEND = MODEL_BACKEND
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        page_tests.AUTH_BACKEND = cls._auth_backend

    @classmethod
    def setUpTestData(cls):
        cls.home = Site.objects.get(is_default_site=True).root_page.specific

    def setUp(self):
        super().setUp()
        # django-axes needs a request to authenticate: log in without a password instead.
        user = self.create_superuser("editor", "editor@example.test", "not-used-here")
        self.client.force_login(user, backend=MODEL_BACKEND)

    def test_home_page_is_routable_and_renderable(self):
        self.assertIsInstance(self.home, HomePage)
        self.assertPageIsRoutable(self.home)
        self.assertPageIsRenderable(self.home)
        self.assertEditViewLoads(self.home)

    def assertEditViewLoads(self, page):
        # assertPageIsEditable scrapes the form from the HTML, which StreamField draws with
        # JavaScript; the creation tests below post StreamField content instead.
        response = self.client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        self.assertEqual(response.status_code, 200)

    def test_every_topic_page_is_routable_renderable_and_editable(self):
        pages = TopicPage.objects.child_of(self.home)
        self.assertEqual(sorted(p.slug for p in pages), sorted(t["slug"] for t in TOPICS))
        for page in pages:
            with self.subTest(page=page.slug):
                self.assertPageIsRoutable(page)
                self.assertPageIsRenderable(page)
                self.assertEditViewLoads(page)

    def test_allowed_parent_and_subpage_types(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})
        self.assertAllowedSubpageTypes(HomePage, {TopicPage})
        self.assertAllowedParentPageTypes(TopicPage, {HomePage, TopicPage})
        self.assertAllowedSubpageTypes(TopicPage, {TopicPage})
        self.assertCanNotCreateAt(TopicPage, HomePage)
        self.assertCanNotCreateAt(Page, TopicPage)

    def test_each_state_site_has_its_home_page_under_the_root(self):
        self.assertCanCreateAt(Page, HomePage)
        self.assertTrue(HomePage.can_create_at(Page.get_first_root_node()))  # another state

    def test_editor_can_create_a_topic_page_with_stream_content(self):
        # The shipped statutes have no category (the state profile gives none): an editor sets
        # two, and the block lists only the chosen one's.
        Statute.objects.filter(citation="§ 566.206").update(category="labor")
        Statute.objects.filter(citation="§ 566.212").update(category="sex")
        metric = Metric.objects.get(slug="hotline-cases")
        missouri = Jurisdiction.objects.get(code="MO")
        data = nested_form_data(
            {
                "title": "Test topic",
                "slug": "test-topic",
                "intro": rich_text("<p>An introduction.</p>"),
                "body": streamfield(
                    [
                        ("heading", {"heading": "A section", "anchor": "section"}),
                        ("text", rich_text("<p>Some words.</p>")),
                        ("statutes", {"heading": "Laws", "category": "labor"}),
                        (
                            "key_figure",
                            {
                                "metric": metric.pk,
                                "jurisdiction": missouri.pk,
                                "year": "2019",
                                "label": "",
                                "show_national": "",
                            },
                        ),
                        ("hotlines", {"heading": "Hotlines"}),
                    ]
                ),
            }
        )
        self.assertCanCreate(self.home, TopicPage, data)
        page = TopicPage.objects.get(slug="test-topic")
        self.assertEqual(
            [b.block_type for b in page.body],
            ["heading", "text", "statutes", "key_figure", "hotlines"],
        )
        self.assertPageIsRenderable(page)
        html = self.client.get(page.url).content.decode()
        self.assertIn("§ 566.206", html)  # the labor statutes
        self.assertNotIn("§ 566.212", html)  # a sex trafficking statute
        # The key figure's own element holds the stored value (the header's "233733" text
        # number must not make this pass).
        self.assertRegex(html, r'<div class="key-figure__value">233\b')

    def test_editor_can_create_a_nested_topic_page(self):
        parent = TopicPage.objects.get(slug="federal-prosecutions")
        data = nested_form_data(
            {
                "title": "Cases by district",
                "slug": "by-district",
                "intro": rich_text(""),
                "body": streamfield([("text", rich_text("<p>Words.</p>"))]),
            }
        )
        self.assertCanCreate(parent, TopicPage, data)
        child = TopicPage.objects.get(slug="by-district")
        self.assertPageIsRoutable(child)
        html = self.client.get(parent.url).content.decode()
        self.assertIn(child.url, html)  # "In this section"
