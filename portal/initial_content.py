"""The Missouri site's first content: pages, snippets and site settings from the seed documents.

`build_site()` creates what is missing and never touches what exists, so editors' later changes
survive a second run, and a second run changes nothing. Pages are found by slug under the home
page, snippets by their natural key (state and citation or name).

No figure is typed here: every number on a page comes from the statistics store through the
stats blocks, which name metrics and jurisdictions by slug and code. Links the seed documents
lost are left empty rather than guessed.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.models import Page, Site

from resources.models import (
    Campaign,
    FundingOpportunity,
    Hotline,
    Organization,
    Publication,
    Statute,
)
from stats.models import Jurisdiction, Metric, Source

from .models import HomePage, SiteSettings, TopicPage

STATE = "MO"
STATE_NAME = "Missouri"

NATIONAL_HOTLINE = "National Human Trafficking Hotline"
STATE_TIPLINE = "Missouri Attorney General Trafficking Tipline"
REFERRAL_DIRECTORY = "https://humantraffickinghotline.org/training-resources/referral-directory"
HTI_SITE = "http://www.TraffickingInstitute.org"

# Snippets, in the order the seed documents list them. Keys: the model's natural key field.

STATUTES = [
    # (citation, title, category) from seed 004, in its order; the links behind them were lost.
    # The profile lists them under one heading: no category is set until an editor sets one.
    ("§ 566.203", "Abusing an Individual Through Forced Labor Penalty", ""),
    (
        "§ 566.223",
        "Federal Trafficking Victims Protection Act of 2000 to Apply, When — Affirmative Defense — "
        "Procedures to Identify Victims, Training on Protocols",
        "",
    ),
    ("§ 566.215.1", "Contributing to Human Trafficking: Penalty", ""),
    ("§ 513.607", "Property Subject to Forfeiture", ""),
    ("§ 566.212", "Sexual Trafficking of a Child: Penalty", ""),
    (
        "§ 566.206",
        "Trafficking for the Purpose of Slavery, Involuntary Servitude, Peonage, or Forced Labor: "
        "Penalty",
        "",
    ),
]

# The profile lists organizations and publications each under one heading, without a type of
# each: the kind is left empty until an editor sets one.
ORGANIZATIONS = [
    ("Human Trafficking Task Force of Eastern Missouri", ""),
    ("Central Missouri Stop Human Trafficking Coalition", ""),
    ("Stop Human Trafficking: Eastern MO, Southern Illinois Network", ""),
    ("Human Trafficking Rescue Project", ""),
    ("Stand Against Trafficking", ""),
    ("Missouri Attorney General Task Force Against Human Trafficking", ""),
]

PUBLICATIONS = [
    ("Human Trafficking Manual", ""),
    (
        "Human Trafficking: A Comparison of Missouri Local Law Enforcement Preparedness Methods",
        "",
    ),
    (
        "An Ethnographic Study of Human Trafficking in Springfield: A Real or Perceived Problem?",
        "",
    ),
    (
        "Understanding Community Needs and Priorities for Preventing Commercial Sexual "
        "Exploitation of Children and Youth",
        "",
    ),
    ("Human Trafficking Trainings", ""),
]

FUNDING = ["Victims of Crime Act grants and funds"]
CAMPAIGNS = ["Bills for Billboard"]

# Contact details only as a source prints them (seed 004), with that source named: the text
# number, relay and emergency advice no seed gives are left for an editor to add, with the
# hotline's own page as their source and the day they were checked.
HOTLINE_DETAILS_SOURCE = (
    "U.S. Department of Health and Human Services, Region VII, state profile "
    '"Missouri: Efforts to Combat Human Trafficking" (December 2012 to December 2016)'
)

HOTLINES = [
    {
        "name": NATIONAL_HOTLINE,
        "scope": "national",
        "phone": "888-373-7888",
        "text_number": "",
        "chat_url": "",
        "relay": "",
        "hours": "24/7",
        "languages": "More than 200 languages",
        "description": (
            "The National Hotline serves victims and survivors of human trafficking and the "
            "anti-trafficking community across the United States and its territories, 24/7, in "
            "more than 200 languages."
        ),
        "confidentiality": (
            "Contact the confidential hotline to report tips, seek services, ask for help, or "
            "receive information and statistics related to human trafficking."
        ),
        "source_name": HOTLINE_DETAILS_SOURCE,
        "source_url": "",
        "checked_on": None,
    },
    {
        "name": STATE_TIPLINE,
        "scope": "state",
        "phone": "800-700-1650",
        "description": "Call this state-wide hotline to report incidents of human trafficking.",
        "confidentiality": "",
        "source_name": HOTLINE_DETAILS_SOURCE,
        "source_url": "",
        "checked_on": None,
    },
]


class Refs:
    """Primary keys of the metrics, jurisdictions and sources the pages name."""

    def __init__(self):
        self.metrics = dict(Metric.objects.values_list("slug", "pk"))
        self.places = dict(Jurisdiction.objects.values_list("code", "pk"))
        self.sources = dict(Source.objects.values_list("slug", "pk"))

    def _get(self, table, key, what):
        try:
            return table[key]
        except KeyError:
            raise LookupError(
                f"{what} {key!r} is not in the statistics store: load the catalog first "
                "(python manage.py load_initial_data)."
            ) from None

    def metric(self, slug):
        return self._get(self.metrics, slug, "Metric")

    def place(self, code):
        return self._get(self.places, code, "Jurisdiction")

    def source(self, slug):
        return self._get(self.sources, slug, "Source")


# Stream blocks, as raw StreamField data.


def heading(text, anchor=""):
    return {"type": "heading", "value": {"heading": text, "anchor": anchor}}


def text(html):
    return {"type": "text", "value": html}


def editor_note(note):
    """Shown to editors in previews and on the admin dashboard, never to visitors."""
    return {"type": "editor_note", "value": {"note": note}}


class Blocks:
    """Builders of stats blocks that resolve slugs and codes to primary keys."""

    def __init__(self, refs):
        self.refs = refs

    def figure(self, metric, place=STATE, year=None, label="", national=False):
        return {
            "metric": self.refs.metric(metric),
            "jurisdiction": self.refs.place(place),
            "year": year,
            "label": label,
            "show_national": national,
        }

    def figures(self, title, *figures):
        return {"type": "key_figures", "value": {"heading": title, "figures": list(figures)}}

    def chart(
        self,
        title,
        metrics,
        places,
        description,
        chart_type="bar",
        years=(None, None),
        by_breakdown=False,
        note="",
    ):
        return {
            "type": "chart",
            "value": {
                "title": title,
                "metrics": [self.refs.metric(m) for m in metrics],
                "jurisdictions": [self.refs.place(p) for p in places],
                "from_year": years[0],
                "to_year": years[1],
                "by_breakdown": by_breakdown,
                "chart_type": chart_type,
                "description": description,
                "note": note,
            },
        }

    def outside_tvpa(self, year):
        """Sex trafficking cases charged outside the TVPA in a report year, beside the nation's."""
        return self.figures(
            f"Sex trafficking cases charged outside the Trafficking Victims Protection Act, {year}",
            self.figure("sex-trafficking-cases-outside-tvpa", year=year, national=True),
        )

    def restitution_share(self, year, national=False):
        return self.figures(
            f"Restitution in {year}",
            self.figure(
                "restitution-ordered-share",
                year=year,
                national=national,
                label="Convicted defendants whom federal judges in Missouri ordered to pay "
                "restitution",
            ),
        )

    def stack_up(self, title, year, metrics, edition, place=STATE):
        return {
            "type": "stack_up",
            "value": {
                "heading": title,
                "jurisdiction": self.refs.place(place),
                "year": year,
                "metrics": [self.refs.metric(m) for m in metrics],
                "edition": self.refs.source(edition),
            },
        }

    def ranked(self, title, metric, place=STATE, limit=5):
        return {
            "type": "ranked_list",
            "value": {
                "title": title,
                "metric": self.refs.metric(metric),
                "jurisdiction": self.refs.place(place),
                "limit": limit,
            },
        }

    def sources(self, title, *slugs):
        return {
            "type": "sources",
            "value": {"heading": title, "sources": [self.refs.source(s) for s in slugs]},
        }

    def by_district(self, year):
        years = (year, year)
        return [
            self.chart(
                f"New criminal cases by federal district, {year}",
                ["new-criminal-cases"],
                ["MOED", "MOWD"],
                f"New federal criminal human trafficking cases in {year} in the Eastern and "
                "Western Districts of Missouri.",
                years=years,
            ),
            self.chart(
                f"Convictions by federal district, {year}",
                ["convicted-defendants"],
                ["MOED", "MOWD"],
                f"Defendants convicted in {year} in the Eastern and Western Districts of Missouri.",
                years=years,
            ),
        ]

    def by_type(self, year, metrics=("new-criminal-cases",)):
        labels = {
            "new-criminal-cases": "New criminal cases",
            "active-criminal-cases": "Active criminal cases",
        }
        return [
            self.chart(
                f"{labels[m]} by type of trafficking, {year}",
                [m],
                [STATE],
                f"{labels[m]} in Missouri in {year}: sex trafficking and forced labor.",
                years=(year, year),
                by_breakdown=True,
            )
            for m in metrics
        ]


# Pages.

HTI_SOURCES = ("hti-fhtr-2020", "hti-fhtr-2019", "hti-fhtr-2018")
COUNTS_2018_2019 = ["new-criminal-cases", "new-defendants", "active-criminal-cases"]


def federal_prosecutions(b):
    trend = "line"
    return [
        text(
            "<p>The Human Trafficking Institute (HTI) publishes a Federal Human Trafficking "
            "Report with a summary for each state. These are Missouri's figures from its 2018, "
            "2019 and 2020 reports, newest first. They count federal cases only.</p>"
        ),
        heading("Trends", "trends"),
        b.chart(
            "New criminal human trafficking cases in Missouri",
            ["new-criminal-cases"],
            [STATE],
            "New federal criminal human trafficking cases filed in Missouri, year by year.",
            chart_type=trend,
        ),
        b.chart(
            "New criminal human trafficking defendants in Missouri",
            ["new-defendants"],
            [STATE],
            "Defendants charged in new federal criminal human trafficking cases in Missouri, "
            "year by year.",
            chart_type=trend,
        ),
        b.chart(
            "Convicted defendants in Missouri",
            ["convicted-defendants"],
            [STATE],
            "Defendants convicted in federal human trafficking cases in Missouri, year by year.",
            chart_type=trend,
        ),
        b.chart(
            "Defendants ordered to pay restitution in Missouri",
            ["restitution-ordered-share"],
            [STATE],
            "Share of convicted defendants in Missouri whom federal judges ordered to pay "
            "restitution, year by year.",
            chart_type=trend,
        ),
        b.chart(
            "New civil human trafficking cases nationwide",
            ["new-civil-cases"],
            ["US"],
            "New civil human trafficking suits filed in federal courts nationwide, year by year.",
            chart_type=trend,
        ),
        text(
            "<p>HTI's 2020 report has sections of twenty-year trends whose yearly figures are "
            "not published as text. The charts here show the years whose figures the portal "
            "holds, and grow as each report's figures are entered.</p>"
        ),
        # 2020 edition (seed 000).
        heading("2020 report", "report-2020"),
        b.figures(
            "Defendants in 2020",
            b.figure("new-defendants", year=2020),
            b.figure("active-defendants", year=2020),
            b.figure("convicted-defendants", year=2020),
        ),
        b.figures(
            "Convictions and sentences in 2020",
            b.figure("conviction-rate", year=2020),
            b.figure("sentenced-to-prison", year=2020),
            b.figure("average-prison-sentence", year=2020),
        ),
        b.outside_tvpa(2020),
        b.restitution_share(2020),
        *b.by_district(2020),
        *b.by_type(2020),
        # 2019 edition (seed 002).
        heading("2019 report", "report-2019"),
        b.stack_up(
            "How does Missouri stack up? 2019",
            2019,
            [
                "new-criminal-cases",
                "active-criminal-cases",
                "convicted-defendants",
                "restitution-ordered-share",
            ],
            "hti-fhtr-2019",
        ),
        b.outside_tvpa(2019),
        b.restitution_share(2019, national=True),
        b.figures(
            "Key findings from federal prosecutions nationwide, 2019",
            *(
                b.figure(m, "US", 2019)
                for m in COUNTS_2018_2019 + ["convicted-defendants", "average-prison-sentence"]
            ),
        ),
        b.chart(
            "National key findings, 2018 and 2019",
            COUNTS_2018_2019 + ["convicted-defendants"],
            ["US"],
            "New cases, new defendants, active cases and convictions in federal human "
            "trafficking prosecutions nationwide in 2018 and 2019, as the 2019 report gives them. "
            "Where the 2018 report gave a different figure for 2018, the notes say so.",
            years=(2018, 2019),
        ),
        b.chart(
            "Average prison sentence nationwide, 2018 and 2019",
            ["average-prison-sentence"],
            ["US"],
            "Average prison sentence, in months, in federal human trafficking cases nationwide "
            "in 2018 and 2019.",
            years=(2018, 2019),
        ),
        *b.by_district(2019),
        *b.by_type(2019),
        # 2018 edition (seed 001).
        heading("2018 report", "report-2018"),
        b.stack_up(
            "How does Missouri stack up? 2018",
            2018,
            [
                "new-criminal-cases",
                "active-criminal-cases",
                "convicted-defendants",
                "restitution-ordered-defendants",
            ],
            "hti-fhtr-2018",
        ),
        b.figures(
            "Labor trafficking in 2018",
            b.figure("labor-trafficking-share-active-cases", year=2018),
            b.figure("new-labor-trafficking-cases", year=2018),
            b.figure("jurisdictions-without-labor-trafficking-prosecution", "US", 2018),
        ),
        text(
            "<p>The Human Trafficking Institute's 2018 report adds, in words rather than "
            "figures, that nationally the most common type of exploited labor in labor "
            "trafficking cases active in 2018 was domestic work, and that over half of the "
            "active labor trafficking cases involved a defendant using threats of deportation "
            "to coerce labor or services.</p>"
        ),
        b.figures(
            "Restitution in 2018",
            b.figure("restitution-ordered-defendants", year=2018),
        ),
        b.figures(
            "Key findings from criminal cases nationwide, 2018",
            b.figure("new-criminal-cases", "US", 2018),
            b.figure("new-defendants", "US", 2018),
            b.figure("convicted-defendants", "US", 2018),
            b.figure("average-prison-sentence", "US", 2018),
            b.figure("months-to-resolve", "US", 2018),
            b.figure("labor-trafficking-share-new-cases", "US", 2018),
        ),
        text(
            "<p>The 2019 report gives different figures for several of these 2018 national "
            "figures. Where it does, the figure shown is the 2019 report's, and the note beside "
            "it says what each report gives.</p>"
        ),
        b.figures(
            "Civil cases nationwide, 2018",
            b.figure("new-civil-cases", "US", 2018),
        ),
        b.chart(
            "New civil human trafficking cases nationwide by type, 2018",
            ["new-civil-cases-share"],
            ["US"],
            "Shares of the new civil human trafficking suits filed in federal courts nationwide "
            "in 2018 that were labor trafficking and sex trafficking cases.",
            chart_type="bar",
            years=(2018, 2018),
            by_breakdown=True,
        ),
        *b.by_district(2018),
        *b.by_type(2018, ("new-criminal-cases", "active-criminal-cases")),
        # About the reports.
        heading("About these figures", "about"),
        text(
            "<p><b>What the figures are not.</b> HTI's findings are not a prevalence estimate of "
            "human trafficking in the United States. They are an objective summary of what the "
            "federal system has done to address trafficking. They do not capture state "
            "prosecutions, state civil suits, or unreported human trafficking cases.</p>"
            "<p><b>Restitution.</b> The 2018 and 2020 reports left out of their restitution "
            "figures the convicted defendants in cases where the government did not name a "
            "trafficking victim in the charging instrument; the 2018 report adds that it is "
            "uncommon for federal courts to order restitution in such cases (e.g., sting "
            "operation cases). The note beside each of those figures says how many were left "
            "out. The 2019 report states no such exclusion.</p>"
        ),
        b.sources("Methodology and limitations of each report", *HTI_SOURCES),
        heading("About the Human Trafficking Institute", "about-hti"),
        text(
            "<p>The Human Trafficking Institute exists to decimate modern slavery at its source "
            "by empowering police and prosecutors to stop traffickers. Working inside criminal "
            "justice systems, it provides the embedded experts, world-class training, "
            "investigative resources, and evidence-based research necessary to free victims. "
            f'<a href="{HTI_SITE}">www.TraffickingInstitute.org</a></p>'
        ),
    ]


def hotline_statistics(b):
    year = (2019, 2019)
    return [
        text(
            "<p>The National Human Trafficking Hotline provides survivors of human trafficking "
            "with vital support and a variety of options to get help and stay safe. These "
            "figures come from its Missouri Spotlight for 2019.</p>"
            "<p>They do not represent the full scope of trafficking in Missouri. Lack of "
            "awareness of human trafficking or of the National Hotline can lead to significant "
            "underreporting, particularly among labor trafficking populations or by certain "
            "racial or ethnic groups. Still, this information can shed some light on trafficking "
            "in Missouri, which can help put traffickers out of business and help survivors find "
            "the services they need.</p>"
        ),
        b.figures(
            "Identified through the hotline in 2019",
            b.figure("hotline-victims-identified", year=2019),
            b.figure("hotline-traffickers-identified", year=2019),
            b.figure("hotline-trafficking-businesses", year=2019),
            b.figure("hotline-cases", year=2019),
        ),
        heading("Cases by type of trafficking", "cases-by-type"),
        b.chart(
            "Trafficking cases by type, 2019",
            ["hotline-cases"],
            [STATE],
            "Cases of human trafficking in Missouri identified through the hotline in 2019, by "
            "type: sex trafficking, labor trafficking, sex and labor trafficking, and form not "
            "specified.",
            years=year,
            by_breakdown=True,
            note="The cases by type, as published, add up to more than the published total of "
            "cases. Both are shown as the hotline published them.",
        ),
        heading("How people contacted the hotline", "signals"),
        b.chart(
            "Communication to the National Hotline by channel, 2019",
            ["hotline-signals"],
            [STATE],
            "Communications about Missouri received by the National Human Trafficking Hotline "
            "in 2019, by channel: phone calls, webforms, emails, texts and webchats.",
            years=year,
            by_breakdown=True,
        ),
        heading("Locations of trafficking", "locations"),
        text(
            "<p>The Spotlight has a section headed “Locations of Trafficking”, with the "
            "note “Some cases may involve multiple locations.” Nothing else of that "
            "section was published as text, so nothing of it is reproduced here.</p>"
        ),
        heading("Caveats", "caveats"),
        text(
            "<p>The figures cover signals and cases from the whole of calendar year 2019. Cases "
            "of trafficking may be ongoing, and new information may be revealed to the National "
            "Hotline over time. Consequently, statistics may be subject to change as new "
            "information emerges. The date the figures were accurate as of is given with the "
            "source below.</p>"
        ),
        b.sources("Source", "nhth-2019-missouri"),
    ]


def state_profile(b):
    demographics = [
        ("potential-victims-by-citizenship", "citizenship", "Citizenship"),
        ("potential-victims-by-gender", "gender", "Gender"),
        ("potential-victims-by-age", "age", "Age"),
    ]
    return [
        text(
            "<p>This state profile summarizes regionally specific data to help promote "
            "collaboration and inform and enhance the response to human trafficking in "
            "Missouri. Its information was reported to the National Human Trafficking Hotline "
            "from December 2012 to December 2016.</p>"
        ),
        heading("Demographics of potential persons trafficked", "demographics"),
        *(
            b.chart(
                f"Potential persons trafficked by {what}",
                [metric],
                [STATE],
                f"Potential persons trafficked in cases reported to the hotline about Missouri "
                f"from December 2012 to December 2016, by {what}.",
                by_breakdown=True,
                note="These statistics are non-cumulative.",
            )
            for metric, what, _label in demographics
        ),
        text(
            "<p>These statistics are non-cumulative. Cases may involve multiple victims and "
            "include males and females, foreign nationals and U.S. citizens, adults and minors. "
            "In some cases, callers do not provide demographic information.</p>"
        ),
        heading("Top sex and labor trafficking venues", "venues"),
        b.ranked("Top sex trafficking venues", "top-sex-trafficking-venues"),
        b.ranked("Top labor trafficking venues", "top-labor-trafficking-venues"),
        heading("What signals are, and what they are not", "signals"),
        text(
            "<p>The data are based on aggregated information learned through signals (phone "
            "calls, emails, and online tip reports) received by the National Human Trafficking "
            "Hotline. The data do not represent actual numbers of cases identified or processed, "
            "nor do they represent the entire scope of human trafficking.</p>"
            "<p>The profile also showed a heat map of the cases reported to the hotline in 2016, "
            "with significant red shading in northeast and northwest Missouri, and has a section "
            "headed “Types of Calls to the National Human Trafficking Hotline in 2016”. "
            "Neither was published as text beyond these words, so they are not reproduced here. "
            "The map reflected only cases in which the location of the potential trafficking "
            "was known; some cases may involve more than one location.</p>"
        ),
        editor_note(
            "The profile's text also reads: “For more statistics on human trafficking in "
            "Missouri, visit https://humanhumantraffickinghotline.org/state/missouri”. That "
            "address repeats “human” and looks misspelt, so the sentence is not shown "
            "here. Confirm the right address (the hotline's own Missouri page), add the sentence "
            "and its link in a text block, then delete this note."
        ),
        b.sources("Source", "hhs-r7-missouri-2016"),
    ]


def laws(b):
    return [
        {
            "type": "statutes",
            "value": {
                "heading": "Missouri Human Trafficking Laws (Sex Trafficking, Labor Trafficking, "
                "Safe Harbor, Vacating Convictions, etc.)",
                "category": "",
            },
        },
        text(
            "<p>The laws are listed as the state profile of the U.S. Department of Health and "
            "Human Services, Region VII, lists them: under one heading, in its order. A link to "
            "the official text of a section appears once the portal's editors have added it.</p>"
        ),
    ]


def get_help(b):
    return [
        {"type": "hotline_callout", "value": {"hotline": None, "message": "Get help now"}},
        {"type": "hotlines", "value": {"heading": "Human trafficking hotlines"}},
    ]


def statewide_efforts(b):
    return [
        b.figures(
            "Victim services",
            b.figure(
                "victim-service-agencies",
                label="Victim service agencies listed in the National Human Trafficking "
                "Referral Directory in Missouri",
            ),
        ),
        text(
            "<p>Find them in the "
            f'<a href="{REFERRAL_DIRECTORY}">National Human Trafficking Referral Directory</a>.'
            "</p>"
        ),
        {
            "type": "organizations",
            "value": {
                "heading": "Collaborations: coalitions, task forces and working groups",
                "kinds": [],
            },
        },
        {
            "type": "publications",
            "value": {
                "heading": "Resources: state research, publications and trainings",
                "kinds": [],
            },
        },
        {"type": "funding", "value": {"heading": "Funding opportunities"}},
        {"type": "campaigns", "value": {"heading": "Campaigns"}},
        text(
            "<p>These lists come from the state profile of the U.S. Department of Health and "
            "Human Services, Region VII. Its text version lost the links behind the names; a "
            "link appears here once the portal's editors have confirmed the address.</p>"
        ),
    ]


def data_and_methodology(b):
    return [
        text(
            "<p>Every figure on this portal is shown with the edition of the publication it "
            "comes from. When a later edition publishes a different value for the same figure, "
            "the portal shows the newer value and notes what the earlier edition gave; a section "
            "about one report shows that report's own values and names the edition of any "
            "other value beside it. Caveats and exclusions published "
            "with a figure, such as defendants left out of restitution percentages, are shown "
            "beside it. Where a source's chart was lost and its figures were not published as "
            "text, the portal shows nothing rather than a guess.</p>"
        ),
        {"type": "sources", "value": {"heading": "Sources", "sources": []}},
        {"type": "data_downloads", "value": {"heading": "Download the data"}},
    ]


def home(b):
    return [
        {"type": "hotline_callout", "value": {"hotline": None, "message": "Get help now"}},
        b.figures(
            "Federal prosecutions: the latest report",
            b.figure("new-defendants"),
            b.figure("active-defendants"),
            b.figure("convicted-defendants"),
        ),
        b.figures(
            "Hotline statistics: the latest year",
            b.figure("hotline-cases"),
            b.figure("hotline-victims-identified"),
        ),
        b.figures(
            "Statewide efforts",
            b.figure(
                "victim-service-agencies",
                label="Victim service agencies listed in the National Human Trafficking "
                "Referral Directory in Missouri",
            ),
        ),
    ]


HOME = {
    "title": "Human trafficking in Missouri",
    "slug": "home",
    "search_description": "Published figures on human trafficking in Missouri, each with its "
    "source, the state's laws, and where to get help.",
    "intro": "<p>Published figures on human trafficking in Missouri, each with its source, the "
    "state's laws and efforts, and where to get help.</p>",
    "body": home,
}

TOPICS = [
    {
        "slug": "federal-prosecutions",
        "title": "Federal prosecutions",
        "search_description": "Federal human trafficking prosecutions in Missouri from the Human "
        "Trafficking Institute's reports: cases, defendants, convictions, sentences, restitution "
        "and how Missouri compares.",
        "intro": "<p>Federal criminal human trafficking cases in Missouri: how many were filed, "
        "how many defendants were convicted and sentenced, and how Missouri compares with the "
        "nation.</p>",
        "body": federal_prosecutions,
    },
    {
        "slug": "hotline-statistics",
        "title": "Hotline statistics 2019",
        "search_description": "What the National Human Trafficking Hotline learned about "
        "trafficking in Missouri in 2019: victims, traffickers, cases by type, and how people "
        "reached the hotline.",
        "intro": "<p>Victims, traffickers and cases in Missouri identified through the National "
        "Human Trafficking Hotline in 2019.</p>",
        "body": hotline_statistics,
    },
    {
        "slug": "state-profile",
        "title": "State profile",
        "search_description": "Demographics of potential persons trafficked and the top sex and "
        "labor trafficking venues in cases reported to the National Human Trafficking Hotline "
        "about Missouri, December 2012 to December 2016.",
        "intro": "<p>Demographics of potential persons trafficked and the top sex and labor "
        "trafficking venues in cases reported to the National Human Trafficking Hotline about "
        "Missouri from December 2012 to December 2016, from the U.S. Department of Health and "
        "Human Services, Region VII. Its data are based on signals received by the hotline and "
        "do not represent actual numbers of cases identified or processed.</p>",
        "body": state_profile,
    },
    {
        "slug": "laws",
        "title": "Laws",
        "search_description": "Missouri's human trafficking laws, as the state profile of the U.S. "
        "Department of Health and Human Services, Region VII, lists them.",
        "intro": "<p>Missouri's human trafficking laws: sex trafficking, labor trafficking, safe "
        "harbor, vacating convictions and more.</p>",
        "body": laws,
    },
    {
        "slug": "get-help",
        "title": "Get help",
        "search_description": "Call the National Human Trafficking Hotline, or report "
        "trafficking to the Missouri Attorney General's tipline.",
        "intro": "<p>If you or someone you know may be trafficked, these lines can help. You can "
        "call from this page.</p>",
        "body": get_help,
    },
    {
        "slug": "statewide-efforts",
        "title": "Statewide efforts",
        "search_description": "Coalitions, task forces, research, trainings, funding and "
        "campaigns against human trafficking in Missouri.",
        "intro": "<p>Who works against human trafficking in Missouri: coalitions, task forces, "
        "research, trainings, funding and campaigns.</p>",
        "body": statewide_efforts,
    },
    {
        "slug": "data",
        "title": "Data and methodology",
        "search_description": "Every source behind the portal's figures, how each counted, its "
        "limitations, and downloads of the data.",
        "intro": "<p>Where every figure on this portal comes from, how each source counted and "
        "what it does not count, and how to download the data.</p>",
        "body": data_and_methodology,
    },
]

FOOTER_PAGES = ["get-help", "laws", "data"]


class Builder:
    def __init__(self):
        self.created = {"pages": 0, "snippets": 0, "settings": 0}
        self.blocks = Blocks(Refs())

    # Snippets: found by state and natural key; created live, with a first revision.

    def snippet(self, model, key, fields):
        lookup = {"state": STATE, **key}
        obj = model.objects.filter(**lookup).first()
        if obj is not None:
            return obj, False
        obj = model(**lookup, **fields, live=True)
        obj.save()
        obj.save_revision().publish()
        self.created["snippets"] += 1
        return obj, True

    def snippets(self):
        for position, (citation, title, category) in enumerate(STATUTES):
            self.snippet(
                Statute,
                {"citation": citation},
                {"title": title, "category": category, "sort_order": position},
            )
        for position, (name, kind) in enumerate(ORGANIZATIONS):
            self.snippet(Organization, {"name": name}, {"kind": kind, "sort_order": position})
        for position, (title, kind) in enumerate(PUBLICATIONS):
            self.snippet(Publication, {"title": title}, {"kind": kind, "sort_order": position})
        for position, name in enumerate(FUNDING):
            self.snippet(FundingOpportunity, {"name": name}, {"sort_order": position})
        for position, name in enumerate(CAMPAIGNS):
            self.snippet(Campaign, {"name": name}, {"sort_order": position})
        hotlines = {}
        for position, spec in enumerate(HOTLINES):
            fields = {k: v for k, v in spec.items() if k != "name"}
            hotlines[spec["name"]] = self.snippet(
                Hotline, {"name": spec["name"]}, {**fields, "sort_order": position}
            )
        return hotlines

    # Pages: the site's home page, then each topic page by slug under it.

    def page_fields(self, spec):
        return {
            "title": spec["title"],
            "slug": spec["slug"],
            "search_description": spec["search_description"],
            "intro": spec["intro"],
            "body": spec["body"](self.blocks),
            "show_in_menus": True,
        }

    def publish(self, parent, page):
        parent.add_child(instance=page)
        page.save_revision().publish()
        self.created["pages"] += 1
        return page

    def home_page(self):
        site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
        if site is not None and isinstance(site.root_page.specific, HomePage):
            return site, site.root_page.specific, False
        home = HomePage.objects.first()
        if home is None:
            root = Page.get_first_root_node()
            # Wagtail's "Welcome" page: a bare Page with nothing under it. Replace it.
            bare = ContentType.objects.get_for_model(Page)
            for welcome in root.get_children().filter(content_type=bare):
                if welcome.slug == HOME["slug"] and not welcome.get_children().exists():
                    welcome.delete()
            home = self.publish(root, HomePage(**self.page_fields(HOME)))
        base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
        if site is None:
            site = Site(is_default_site=True, site_name=settings.WAGTAIL_SITE_NAME)
        site.root_page = home
        site.hostname = base.hostname or "localhost"
        site.port = base.port or (443 if base.scheme == "https" else 80)
        site.site_name = site.site_name or settings.WAGTAIL_SITE_NAME
        site.save()
        return site, home, True

    def topic_pages(self, home):
        pages = {}
        for spec in TOPICS:
            page = TopicPage.objects.child_of(home).filter(slug=spec["slug"]).first()
            if page is None:
                page = self.publish(home, TopicPage(**self.page_fields(spec)))
            pages[spec["slug"]] = page
        return pages

    def site_settings(self, site, hotlines, pages, new_site):
        settings_row, new = SiteSettings.objects.get_or_create(site=site)
        fresh = new or new_site
        changed = []
        if new:
            settings_row.state_name, settings_row.state_code = STATE_NAME, STATE
        national, national_new = hotlines[NATIONAL_HOTLINE]
        tipline, tipline_new = hotlines[STATE_TIPLINE]
        # Fill the header's hotlines once; an editor who clears one later keeps it cleared.
        if settings_row.national_hotline_id is None and (fresh or national_new):
            settings_row.national_hotline = national
            changed.append("national_hotline")
        if settings_row.state_tipline_id is None and (fresh or tipline_new):
            settings_row.state_tipline = tipline
            changed.append("state_tipline")
        if not settings_row.footer_links and fresh:
            settings_row.footer_links = [
                {"type": "link", "value": {"title": pages[slug].title, "page": pages[slug].pk}}
                for slug in FOOTER_PAGES
            ]
            changed.append("footer_links")
        if new or changed:
            settings_row.save()
            self.created["settings"] += 1

    def run(self):
        hotlines = self.snippets()
        site, home, new_site = self.home_page()
        pages = self.topic_pages(home)
        self.site_settings(site, hotlines, pages, new_site)
        c = self.created
        if not any(c.values()):
            return "nothing to do: every page, snippet and setting exists."
        return f"{c['pages']} pages and {c['snippets']} snippets created" + (
            ", site settings filled in." if c["settings"] else "."
        )


@transaction.atomic
def build_site():
    """Create the Missouri site's pages, snippets and settings that are missing."""
    return Builder().run()
