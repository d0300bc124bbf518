"""List blocks on real pages: each list model's items fetched once a page, whatever the number
of blocks, and each block still showing exactly its own items."""

import re

import pytest
from wagtail.models import Page, Site

from pages.models import HomePage
from resources import blocks as resource_blocks
from resources.models import Campaign, FundingOpportunity, Publication
from tests.factories import HotlineFactory, OrganizationFactory, StatuteFactory
from tests.test_blocks_page import count_queries, topic
from tests.test_blocks_render import render

pytestmark = pytest.mark.django_db

# One of each list, with a filter where the block has one: what each must show, by element id.
VARIANTS = [
    ("statutes", {"heading": "Sex", "category": "sex"}, "sex_statutes"),
    ("statutes", {"heading": "Labor", "category": "labor"}, "labor_statutes"),
    ("statutes", {"heading": "All laws", "category": ""}, "statutes"),
    ("organizations", {"heading": "Coalitions", "kinds": ["coalition"]}, "coalitions"),
    (
        "organizations",
        {"heading": "Task forces", "kinds": ["task_force", "network"]},
        "task_forces",
    ),
    ("organizations", {"heading": "Everyone", "kinds": []}, "organizations"),
    ("publications", {"heading": "Research", "kinds": ["research"]}, "research"),
    ("publications", {"heading": "Reading", "kinds": []}, "publications"),
    ("funding", {"heading": "Funding"}, "funding"),
    ("campaigns", {"heading": "Campaigns"}, "campaigns"),
    ("hotlines", {"heading": "Hotlines"}, "hotlines"),
]


@pytest.fixture
def home(db):
    home = Page.objects.get(id=1).add_child(instance=HomePage(title="Home", slug="lists-home"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    return home


@pytest.fixture
def snippets(home):
    site = Site.objects.get(is_default_site=True)
    other = Site.objects.create(hostname="other.test", port=80, root_page=home)
    mine = {}

    def ids(prefix, objs):
        return [f"{prefix}-{o.pk}" for o in objs]

    # Created out of the editors' order: the page must show them by sort_order.
    sex = [StatuteFactory(category="sex", sort_order=n) for n in (2, 1)]
    labor = [StatuteFactory(category="labor")]
    uncategorized = [StatuteFactory(category="")]
    mine["sex_statutes"] = ids("statute", sorted(sex, key=lambda s: s.sort_order))
    mine["labor_statutes"] = ids("statute", labor)
    mine["statutes"] = mine["sex_statutes"] + mine["labor_statutes"] + ids("statute", uncategorized)

    coalition = OrganizationFactory(kind="coalition", sort_order=3)
    task_force = OrganizationFactory(kind="task_force", sort_order=1)
    network = OrganizationFactory(kind="network", sort_order=2)
    mine["coalitions"] = ids("organization", [coalition])
    mine["task_forces"] = ids("organization", [task_force, network])
    mine["organizations"] = ids("organization", [task_force, network, coalition])

    research = Publication.objects.create(title="B research", kind="research", live=True, site=site)
    manual = Publication.objects.create(title="A manual", kind="manual", live=True, site=site)
    mine["research"] = ids("publication", [research])
    mine["publications"] = ids("publication", [manual, research])

    mine["funding"] = ids(
        "funding", [FundingOpportunity.objects.create(name="Grant", live=True, site=site)]
    )
    mine["campaigns"] = ids(
        "campaign", [Campaign.objects.create(name="Campaign", live=True, site=site)]
    )
    local = HotlineFactory(scope="local")
    national = HotlineFactory(scope="national", sort_order=5)
    mine["hotlines"] = ids("hotline", [national, local])

    # Neither another state's items nor drafts are shown anywhere.
    StatuteFactory(category="sex", site=other)
    StatuteFactory(category="sex", live=False)
    OrganizationFactory(kind="coalition", site=other)
    OrganizationFactory(kind="coalition", live=False)
    Publication.objects.create(title="Other research", kind="research", live=True, site=other)
    Publication.objects.create(title="Draft research", kind="research", live=False, site=site)
    FundingOpportunity.objects.create(name="Draft grant", live=False, site=site)
    Campaign.objects.create(name="Other campaign", live=True, site=other)
    HotlineFactory(scope="state", site=other)
    HotlineFactory(scope="state", live=False)
    return mine


def list_page(home, slug, variants):
    return topic(home, slug, [{"type": kind, "value": value} for kind, value, _ in variants])


def shown(html):
    """The element ids of the items each list block shows, in the page's order."""
    sections = html.split('<section class="resource-list')[1:]
    return [
        re.findall(r'id="((?:statute|organization|publication|funding|campaign|hotline)-\d+)"', s)
        for s in (s.split("</section>", 1)[0] for s in sections)
    ]


def test_list_blocks_cost_the_same_queries_whatever_their_number(home, snippets, client):
    many = [VARIANTS[i % len(VARIANTS)] for i in range(20)]
    statutes = [v for v in VARIANTS if v[0] == "statutes"]
    pages = {
        "one": (list_page(home, "one-list", statutes[:1]), statutes[:1]),
        "statutes": (list_page(home, "twenty-statute-lists", statutes * 7), statutes * 7),
        "each": (list_page(home, "each-list", VARIANTS), VARIANTS),
        "twenty": (list_page(home, "twenty-lists", many), many),
    }
    client.get(home.url)  # warm what every page shares (the site's root paths)
    counts = {}
    for name, (page, variants) in pages.items():
        counts[name], html = count_queries(client, page.url)
        assert shown(html) == [snippets[key] for _, _, key in variants], name
    # One query a list model the page shows: more blocks of those models add none.
    assert counts["one"] == counts["statutes"]
    assert counts["each"] == counts["twenty"]
    # Six list models, and the safety guidance that lists of hotlines show (read once).
    assert counts["twenty"] == counts["one"] + 6


BLOCKS = {
    "statutes": resource_blocks.StatuteListBlock,
    "organizations": resource_blocks.OrganizationListBlock,
    "publications": resource_blocks.PublicationListBlock,
    "funding": resource_blocks.FundingListBlock,
    "campaigns": resource_blocks.CampaignListBlock,
    "hotlines": resource_blocks.HotlineListBlock,
}


def test_a_list_block_rendered_alone_fetches_its_own_items(snippets):
    for kind, value, key in VARIANTS:
        assert shown(render(BLOCKS[kind](), value)) == [snippets[key]], kind
