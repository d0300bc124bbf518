"""The site's catalog at /data.json, in DCAT-US 3.0 form (the profile data.gov harvests).

One `DatasetSeries` per report series (a publisher's publication, whatever its edition), each
edition it holds figures from as a `Dataset` in that series, one `Dataset` of every figure of
the site (its full downloads and data package), and the API as a `DataService` when the site
names a contact for it (DCAT-US requires one; none is invented). Fields only federal agencies
give (bureau and program codes, CUI markings, access restrictions) are left out, as a state or
local publisher may. Words are given in the site's languages (`titleMap`,
`descriptionMap`); facts come from stats.opendata.metadata, read once per data version.
"""

from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import override

from stats.display.shaping import download_url
from stats.opendata.metadata import MEDIA_TYPES


def _worded(languages, words):
    """{language: words()} in each language, and the first language's as the plain value."""
    found = {}
    for language in languages:
        with override(language):
            found[language] = words()
    return found[languages[0]], found


def _period(first, last):
    return [{"@type": "PeriodOfTime", "startDate": first, "endDate": last}]


def _publisher(name):
    return {"@type": "Organization", "name": name, "prefLabel": name}


def _distribution(media_type, link):
    # The media type inline, by its IANA name (the schema takes an inline one or an IRI).
    media = {"@type": "MediaType", "label": media_type}
    return {"@type": "Distribution", "mediaType": media, "downloadURL": link}


def series_key(source):
    """A report series: one publisher's publication, whatever its edition."""
    return (source["publisher"], source["title"])


class CatalogBuilder:
    """DCAT-US 3.0 catalog of one site: `facts` of its scope, its root URL, its name (a
    callable giving it in the active language), its languages and its data contact."""

    def __init__(self, facts, root, site_name, languages, contact_email=""):
        self.facts, self.root, self.site_name = facts, root, site_name
        self.languages = list(languages) or ["en"]
        self.contact_email = contact_email
        self.places = {p["id"]: p for p in facts["places"]}

    def iri(self, fragment):
        return f"{self.root}/data.json#{fragment}"

    def spatial(self, place_ids):
        places = [self.places[pk] for pk in place_ids if pk in self.places]
        return [{"@type": "Location", "prefLabel": p["name"]} for p in places]

    def build(self):
        title, titles = _worded(self.languages, self.site_name)
        description, descriptions = _worded(
            self.languages,
            lambda: _(
                "Published figures on human trafficking, each with the source edition that "
                "published it, as this portal holds them: its report series, their editions, "
                "its downloads and its API."
            ),
        )
        catalog = {
            "@id": f"{self.root}/data.json",
            "@type": "Catalog",
            "title": title,
            "titleMap": titles,
            "description": description,
            "descriptionMap": descriptions,
            "publisher": {"@type": "Agent", "name": title},
            "homepage": f"{self.root}/",
            "modified": self.facts["changed"],
            "dataset": [self.everything(), *self.series_and_editions()],
        }
        if self.contact_email:
            catalog["service"] = [self.api()]
        return catalog

    def everything(self):
        title, titles = _worded(self.languages, lambda: _("Every figure of this portal"))
        description, descriptions = _worded(
            self.languages,
            lambda: _(
                "Every figure this portal holds, current and restated, with the source edition "
                "that published it: the full downloads (CSV, Excel, JSON) and their data package."
            ),
        )
        name, _names = _worded(self.languages, self.site_name)
        links = [
            (media_type, self.root + reverse("data_download", args=[fmt]))
            for fmt, media_type in MEDIA_TYPES.items()
        ]
        return {
            "@id": self.iri("figures"),
            "@type": "Dataset",
            "title": title,
            "titleMap": titles,
            "description": description,
            "descriptionMap": descriptions,
            "publisher": _publisher(name),
            "modified": self.facts["changed"],
            "temporal": _period(self.facts["first"], self.facts["last"]),
            "spatial": self.spatial(self.places),
            "distribution": [_distribution(media_type, link) for media_type, link in links],
            # The data dictionary: the Frictionless data package of the same files.
            "describedBy": _distribution(
                "application/json",
                self.root + reverse("data_package", args=["datapackage.json"]),
            ),
        }

    def series_and_editions(self):
        series = {}
        for source in self.facts["sources"]:
            series.setdefault(series_key(source), []).append(source)
        found = []
        for (publisher, title), editions in series.items():
            editions = sorted(editions, key=lambda s: (s["edition_year"], s["slug"]))
            key = slugify(f"{publisher} {title}")[:80]
            found.append(self.one_series(key, publisher, title, editions))
            found.extend(self.edition(key, source) for source in editions)
        return found

    def one_series(self, key, publisher, title, editions):
        description, descriptions = _worded(
            self.languages,
            lambda: (
                _("The editions of “%(title)s” by %(publisher)s whose figures this portal holds.")
                % {"title": title, "publisher": publisher}
            ),
        )
        place_ids = sorted({pk for s in editions for pk in s["jurisdiction_ids"]})
        return {
            "@id": self.iri(f"series-{key}"),
            "@type": "DatasetSeries",
            "title": title,
            "description": description,
            "descriptionMap": descriptions,
            "publisher": _publisher(publisher),
            "modified": max(s["changed"] for s in editions),
            "temporal": _period(
                min(s["first"] for s in editions), max(s["last"] for s in editions)
            ),
            "spatial": self.spatial(place_ids),
            "first": self.iri(editions[0]["slug"]),
            "last": self.iri(editions[-1]["slug"]),
            "seriesMember": [self.iri(s["slug"]) for s in editions],
        }

    def edition(self, key, source):
        description, descriptions = _worded(
            self.languages,
            lambda: (
                _(
                    "The figures of %(citation)s (%(coverage)s) that this portal holds, each value "
                    "as the edition published it."
                )
                % {
                    "citation": source["citation"],
                    "coverage": source["coverage"] or source["edition"],
                }
            ),
        )
        codes = [self.places[pk]["code"] for pk in source["jurisdiction_ids"] if pk in self.places]
        query = {"source": source["slug"], "jurisdiction": codes, "history": "1"}
        dataset = {
            "@id": self.iri(source["slug"]),
            "@type": "Dataset",
            "title": source["citation"],
            "description": description,
            "descriptionMap": descriptions,
            "publisher": _publisher(source["publisher"]),
            "identifier": [source["slug"]],
            "version": source["edition"],
            "inSeries": [self.iri(f"series-{key}")],
            "modified": source["changed"],
            "temporal": _period(source["first"], source["last"]),
            "spatial": self.spatial(source["jurisdiction_ids"]),
            "distribution": [
                _distribution(media_type, self.root + download_url(fmt, **query))
                for fmt, media_type in MEDIA_TYPES.items()
            ],
        }
        if source["published_on"]:
            dataset["issued"] = source["published_on"]
        if source["url"]:
            dataset["landingPage"] = source["url"]
        if source["license_url"]:
            dataset["license"] = source["license_url"]
        return dataset

    def api(self):
        title, titles = _worded(self.languages, lambda: _("Figures API"))
        description, descriptions = _worded(
            self.languages,
            lambda: _(
                "A read-only JSON API of the same figures, with filters, cursor pages and an "
                "OpenAPI description."
            ),
        )
        name, _names = _worded(self.languages, self.site_name)
        return {
            "@id": self.iri("api"),
            "@type": "DataService",
            "title": title,
            "titleMap": titles,
            "description": description,
            "descriptionMap": descriptions,
            "publisher": {"@type": "Agent", "name": name},
            "contactPoint": [
                {"@type": "Kind", "fn": name, "hasEmail": f"mailto:{self.contact_email}"}
            ],
            "endpointURL": [self.root + reverse("api:api-root")],
            "endpointDescription": [self.root + reverse("api:openapi-json")],
            "servesDataset": [self.iri(s["slug"]) for s in self.facts["sources"]],
        }
