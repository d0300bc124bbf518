"""Load a state pack: one state's catalog, figures, pages, snippets and site settings.

A pack is a folder (see README, "State packs"). `load_pack()` creates what is missing and never
touches what exists, so editors' and data managers' later changes survive, and a second run
changes nothing. Everything goes through the paths staff use: figures through the importer,
page bodies through the block classes (an unknown block or field stops the load), snippets and
settings through their models' validation. A bad pack stops with a message naming the file and
the entry, inside one transaction, so nothing is changed. Entries may carry their translations
("translations": {"es": {...}}), loaded as Wagtail translations of the English.
"""

import datetime
import json
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import OperationalError, models, transaction
from django.db.models import F
from wagtail import blocks
from wagtail.admin.rich_text.converters.editor_html import EditorHTMLConverter, WhitelistRule
from wagtail.models import Locale, Page, Site
from wagtail.search import index
from wagtail.whitelist import attribute_rule

from pages.models import HomePage, SiteSettings, TopicPage
from pages.search import rendering_deferred
from resources.models import (
    Campaign,
    FundingOpportunity,
    Hotline,
    Organization,
    Publication,
    SafetyGuidance,
    Statute,
)
from stats.exchange import UploadError, read_upload, run_import
from stats.models import Jurisdiction, Metric, Observation, Source, StateSourceText
from stats.store.catalog import load_catalog

FILES = ("manifest.json", "catalog.json", "observations.csv", "pages.json", "snippets.json")
SETTINGS_FILE = "settings.json"

# Each kind of snippet in snippets.json: its model and the field that names an item.
SNIPPETS = {
    "statutes": (Statute, "citation"),
    "organizations": (Organization, "name"),
    "publications": (Publication, "title"),
    "funding": (FundingOpportunity, "name"),
    "campaigns": (Campaign, "name"),
    "hotlines": (Hotline, "name"),
    "safety_guidance": (SafetyGuidance, "text"),
}
PAGE_FIELDS = {"slug", "title", "seo_title", "search_description", "intro", "show_in_menus"}
# An entry's translations: {"es": {...}} beside the English (see Loader.translations).
RESERVED = {"translations"}
# Block fields that hold codes or chosen items, not words: a page translation leaves them.
UNTRANSLATED_KEYS = {"type", "id", "anchor", "chart_type", "category", "kinds"}
MANIFEST_FIELDS = {
    "format",
    "jurisdiction",
    "name",
    "site_name",
    "hostname",
    "language",
    "languages",
    "time_zone",
}
# A state's code in the store: two capital letters.
STATE_CODE = re.compile(r"[A-Z]{2}")
# A host name (RFC 1123 labels, or an IPv4 address): no slashes, no trailing dot, no port.
HOSTNAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
# A source edition's facts, shared by every state: another pack must agree on them.
SOURCE_FACTS = (
    "publisher",
    "edition",
    "edition_year",
    "coverage",
    "published_on",
    "data_as_of",
    "license_url",
)
# Deeper than this the page tree is a mistake (Wagtail's paths stop near 60 levels).
MAX_PAGE_DEPTH = 12
# Snippet fields a pack may not set: bookkeeping of drafts, revisions and translations.
SNIPPET_BOOKKEEPING = {"id", "sort_order", "first_published_at", "go_live_at", "expire_at"}
SETTINGS_FIELDS = {
    "national_hotline",
    "state_tipline",
    "quick_exit_url",
    "footer_links",
    "safety_page",
    "help_page",
    "data_contact_email",
}


def translate_stream(raw, text):
    """A copy of raw StreamField data with every string found in `text` replaced by its
    translation; codes and chosen items (primary keys) stay as they are."""
    if isinstance(raw, dict):
        return {
            k: v if k in UNTRANSLATED_KEYS else translate_stream(v, text) for k, v in raw.items()
        }
    if isinstance(raw, list):
        return [translate_stream(v, text) for v in raw]
    if isinstance(raw, str):
        return text.get(raw, raw)
    return raw


class PackError(Exception):
    """A pack that cannot be loaded; the message names the file and the entry."""


@dataclass
class Outcome:
    figures_imported: str = ""  # the importer's summary of the pack's figures
    created: dict = field(default_factory=lambda: {"pages": 0, "snippets": 0, "settings": 0})
    site: Site = None
    languages: dict = field(default_factory=dict)

    def summary(self):
        c = self.created
        content = (
            f"{c['pages']} pages and {c['snippets']} snippets created"
            + (", site settings filled in" if c["settings"] else "")
            if any(c.values())
            else "nothing to do: every page, snippet and setting exists"
        )
        served = [code for code, ok in self.languages.items() if ok]
        missing = [code for code, ok in self.languages.items() if not ok]
        languages = f" Languages: {', '.join(served)}." if served else ""
        if missing:
            languages += (
                f" Not offered on this site: {', '.join(missing)} (the pack translates no "
                "home page into it)."
            )
        return f"{self.site}: figures: {self.figures_imported}; content: {content}.{languages}"


def _read_json(path, kind=dict):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise PackError(f"{path}: missing file.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackError(f"{path}: not valid JSON ({exc}).") from None
    except RecursionError:
        raise PackError(f"{path}: nested too deeply to be a pack file.") from None
    if not isinstance(data, kind):
        raise PackError(f"{path}: an object is expected at the top.")
    return data


def clean_rich_text(html, features, where):
    """Rich text as the editor would store it: through Wagtail's whitelist for the field's
    features, so no script, handler or unknown element from a pack reaches the database (the
    admin's preview and "View draft" run without the public site's script policy)."""
    if not isinstance(html, str):
        raise PackError(f"{where}: rich text (a string of HTML) is expected.")
    converter = EditorHTMLConverter(features=features)
    converter.converter_rules.append(LANGUAGE_SPAN)
    return converter.to_database_format(html)


def language_tag(value):
    """A span's lang attribute kept when it is a language tag ("en", "es-MX"), else dropped."""
    return value if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", value) else None


# Words quoted as published in another language stay marked so (<span lang="en">), as the
# translations in a pack mark them; only the lang attribute is kept.
LANGUAGE_SPAN = WhitelistRule("span", attribute_rule({"lang": language_tag}))


def clean_stream_text(block, data, where="body"):
    """A copy of stream data (the pack's, or a page's raw data) with each rich text value
    cleaned by `clean_rich_text` for its block's features; everything else as it is."""
    if isinstance(block, blocks.RichTextBlock):
        return clean_rich_text(data, block.features, where)
    if isinstance(block, blocks.StreamBlock) and isinstance(data, list):
        return [
            {
                **child,
                "value": clean_stream_text(
                    block.child_blocks[child["type"]], child.get("value"), where
                ),
            }
            if isinstance(child, dict) and child.get("type") in block.child_blocks
            else child
            for child in data
        ]
    if isinstance(block, blocks.StructBlock) and isinstance(data, dict):
        return {
            k: clean_stream_text(block.child_blocks[k], v, where) if k in block.child_blocks else v
            for k, v in data.items()
        }
    if isinstance(block, blocks.ListBlock) and isinstance(data, list):
        return [clean_stream_text(block.child_block, item, where) for item in data]
    return data


def _hostname(value, where):
    if not isinstance(value, str) or not HOSTNAME.fullmatch(value.lower()):
        raise PackError(
            f"{where}: {value!r} is not a host name (letters, digits, hyphens and dots, "
            "e.g. other.localhost)."
        )
    return value.lower()


def _messages(error):
    """A model's ValidationError as 'field: message' pairs."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages)


def _block_messages(error, where):
    """A block's validation error (Wagtail's as_json_data) as 'path: message' pairs."""
    parts = []

    def walk(data, where):
        if data.get("messages"):
            parts.append(f"{where or 'value'}: {' '.join(data['messages'])}")
        for key, sub in (data.get("blockErrors") or {}).items():
            walk(sub, f"{where}[{key}]" if str(key).isdigit() else f"{where}.{key}")

    data = error.as_json_data() if hasattr(error, "as_json_data") else {"messages": error.messages}
    walk(data, where)
    return "; ".join(parts)


def snippet_fields(model, entry, where):
    """The entry's fields for `model`: its own editable values (no relation, no bookkeeping),
    each of a type the field takes; anything else stops the load with the entry named."""
    fields = {
        f.name: f
        for f in model._meta.concrete_fields
        if f.editable and not f.is_relation and f.name not in SNIPPET_BOOKKEEPING
    }
    _unknown(entry, set(fields), where)
    values = {k: v for k, v in entry.items() if k not in RESERVED}
    for name, value in values.items():
        text = isinstance(fields[name], (models.CharField, models.TextField))
        if isinstance(value, (dict, list)) or (text and not isinstance(value, str)):
            kind = "a string" if text else "a single value"
            raise PackError(f"{where}: {name}: {kind} is expected, not {value!r}.")
    return values


def page_words(entry, where):
    """A page entry's (or its translation's) own fields, each of its type, the introduction
    cleaned as the editor would store it."""
    fields = {k: v for k, v in entry.items() if k in PAGE_FIELDS}
    for name, value in fields.items():
        wanted = bool if name == "show_in_menus" else str
        if not isinstance(value, wanted):
            raise PackError(f"{where}: {name}: {wanted.__name__} expected, not {value!r}.")
    if "intro" in fields:
        features = HomePage._meta.get_field("intro").features
        fields["intro"] = clean_rich_text(fields["intro"], features, f"{where}: intro")
    return fields


def _unknown(entry, allowed, where):
    extra = set(entry) - allowed - RESERVED
    if extra:
        raise PackError(f"{where}: unknown field(s) {', '.join(sorted(extra))}.")


class Loader:
    def __init__(self, path, hostname=None, port=None):
        self.path = Path(path)
        self.hostname, self.port = hostname, port
        self.outcome = Outcome()
        self.pages = {}  # slug -> page, for page choosers and footer links
        self.named = {}  # slug -> the entry that names it, for duplicate slugs
        self.languages = [settings.LANGUAGE_CODE]
        self.time_zone = "UTC"

    def file(self, name):
        return self.path / name

    # References by natural key, as the pack names them.

    def natural_key(self, model, key, where):
        if key is None or key == "":
            return None
        if not isinstance(key, str):
            raise PackError(f"{where}: a name (a string) is expected, not {key!r}.")
        if issubclass(model, Page):
            page = self.pages.get(key)
            if page is None:
                raise PackError(f"{where}: no page {key!r} in this pack (before this entry).")
            return page.pk
        if model is Hotline:
            found = Hotline.objects.filter(
                site=self.site, name=key, locale=Locale.get_default()
            ).values_list("pk", flat=True)
        else:
            lookup = {Metric: "slug", Source: "slug", Jurisdiction: "code"}.get(model)
            if lookup is None:
                raise PackError(f"{where}: cannot name a {model._meta.verbose_name} in a pack.")
            found = model.objects.filter(**{lookup: key}).values_list("pk", flat=True)
        pk = next(iter(found), None)
        if pk is None:
            raise PackError(f"{where}: unknown {model._meta.verbose_name} {key!r}.")
        return pk

    def resolve(self, block, data, where):
        """The pack's value for `block` with natural keys replaced by primary keys; stops on
        an unknown block type or field, which the block classes would silently drop."""
        if isinstance(block, blocks.StreamBlock):
            return self.resolve_stream(block, data, where)
        if isinstance(block, blocks.StructBlock):
            return self.resolve_struct(block, data, where)
        if isinstance(block, blocks.ListBlock):
            if not isinstance(data, list):
                raise PackError(f"{where}: a list is expected.")
            return [
                self.resolve(block.child_block, item, f"{where}[{i}]")
                for i, item in enumerate(data)
            ]
        if isinstance(block, blocks.ChooserBlock):
            return self.natural_key(block.target_model, data, where)
        return data

    def resolve_stream(self, block, data, where):
        if not isinstance(data, list):
            raise PackError(f"{where}: a list of blocks is expected.")
        out = []
        for i, child in enumerate(data):
            here = f"{where}[{i}]"
            if not isinstance(child, dict) or set(child) - {"type", "value", "id"}:
                raise PackError(f'{here}: a block is {{"type": ..., "value": ...}}.')
            kind = child.get("type")
            if not isinstance(kind, str) or kind not in block.child_blocks:
                raise PackError(f"{here}: unknown block type {kind!r}.")
            value = self.resolve(block.child_blocks[kind], child.get("value"), here)
            out.append({"type": kind, "value": value})
        return out

    def resolve_struct(self, block, data, where):
        if not isinstance(data, dict):
            raise PackError(f"{where}: an object with fields is expected.")
        unknown = set(data) - set(block.child_blocks)
        if unknown:
            raise PackError(
                f"{where}: unknown field(s) {', '.join(sorted(unknown))} "
                f"for a {block.name or type(block).__name__} block."
            )
        return {
            name: self.resolve(block.child_blocks[name], value, f"{where}.{name}")
            for name, value in data.items()
        }

    def stream(self, stream_block, data, where):
        """A StreamValue built and validated by the block classes."""
        raw = self.resolve(stream_block, data, where)
        try:
            return stream_block.clean(stream_block.to_python(raw))
        except ValidationError as exc:
            raise PackError(_block_messages(exc, where)) from None

    # The state and its site.

    def check_manifest(self, manifest):
        """Each field of the manifest checked, with a message naming it; sets the pack's
        languages and time zone."""
        where = self.file("manifest.json")
        _unknown(manifest, MANIFEST_FIELDS, str(where))
        for key in ("jurisdiction", "name", "hostname"):
            if not isinstance(manifest.get(key), str) or not manifest[key].strip():
                raise PackError(f"{where}: {key!r} is required (a string).")
        for key in ("site_name", "language", "time_zone"):
            if not isinstance(manifest.get(key, ""), str):
                raise PackError(f"{where}: {key!r} is a string.")
        if manifest.get("format", 1) != 1:
            raise PackError(f"{where}: format {manifest['format']!r} is not known (1 is).")
        if not STATE_CODE.fullmatch(manifest["jurisdiction"]):
            raise PackError(
                f"{where}: jurisdiction: {manifest['jurisdiction']!r} is not a state's code "
                "(two capital letters, e.g. KS)."
            )
        _hostname(manifest["hostname"], f"{where}: hostname")
        if self.hostname is not None:
            self.hostname = _hostname(self.hostname, "--hostname")
        self.time_zone = manifest.get("time_zone") or "UTC"
        if self.time_zone not in zoneinfo.available_timezones():
            raise PackError(f"{where}: time_zone: {self.time_zone!r} is not a time zone name.")
        self.languages = self.check_languages(manifest, where)

    def check_languages(self, manifest, where):
        """The languages the pack declares: its own language first, then those of its
        translations (manifest "languages"; default: only its own)."""
        language = manifest.get("language") or settings.LANGUAGE_CODE
        languages = manifest.get("languages", [language])
        known = dict(settings.WAGTAIL_CONTENT_LANGUAGES)
        if not isinstance(languages, list) or not all(isinstance(c, str) for c in languages):
            raise PackError(f"{where}: languages: a list of language codes is expected.")
        for code in [language, *languages]:
            if code not in known:
                raise PackError(f"{where}: languages: {code!r} is not one of {', '.join(known)}.")
        if language != settings.LANGUAGE_CODE or language not in languages:
            raise PackError(
                f"{where}: language: a pack is written in {settings.LANGUAGE_CODE!r}, "
                "with its other languages as translations."
            )
        return languages

    def find_state(self, manifest):
        where = self.file("manifest.json")
        self.check_manifest(manifest)
        state, _ = Jurisdiction.objects.get_or_create(
            code=manifest["jurisdiction"],
            defaults={
                "name": manifest["name"],
                "kind": Jurisdiction.Kind.STATE,
                "parent": Jurisdiction.objects.filter(kind=Jurisdiction.Kind.NATION).first(),
            },
        )
        if state.kind != Jurisdiction.Kind.STATE:
            raise PackError(f"{where}: jurisdiction {state.code!r} is a {state.kind}, not a state.")
        return state

    def find_site(self, state, manifest):
        """The site whose settings name this state, else a new one (the install's first state
        takes over Wagtail's default site). A hostname or port given is applied."""
        site = next(
            (
                s.site
                for s in SiteSettings.objects.filter(jurisdiction=state).select_related("site")
            ),
            None,
        )
        new = site is None
        if not new:
            self.refuse_move(site)
            return site, new
        default = Site.objects.filter(is_default_site=True).first()
        if default is not None and not isinstance(default.root_page.specific, HomePage):
            site = default
        else:
            site = Site(is_default_site=default is None)
        hostname = self.hostname or manifest["hostname"].lower()
        port = self.port or 80
        taken = Site.objects.filter(hostname=hostname, port=port).exclude(pk=site.pk).first()
        if taken is not None:
            raise PackError(
                f"{self.file('manifest.json')}: {hostname}:{port} already serves {taken}; "
                "choose another --hostname or --port."
            )
        site.hostname, site.port = hostname, port
        site.site_name = site.site_name or manifest.get("site_name", "")
        self.stand_on_root(site)
        return site, new

    def refuse_move(self, site):
        """A pack already loaded keeps its site where it is: load_state never moves one."""
        if (self.hostname or site.hostname) != site.hostname or (
            self.port or site.port
        ) != site.port:
            raise PackError(
                f"{self.file('manifest.json')}: {self.state.name} is already loaded on "
                f"{site.hostname}:{site.port}; load_state never moves a site. To serve it on "
                "another host, change the site under Settings > Sites."
            )

    def stand_on_root(self, site):
        """A new site stands on the tree's root until the pack's home page exists."""
        if not isinstance(site.root_page.specific if site.root_page_id else None, HomePage):
            # Until the pack's home page exists, the site stands on the tree's root.
            welcome = site.root_page if site.root_page_id else None
            site.root_page = Page.get_first_root_node()
            site.save()
            if (
                welcome is not None
                and welcome.specific_class is Page
                and welcome.depth > 1
                and not welcome.get_children().exists()
                and not Site.objects.filter(root_page=welcome).exists()
            ):
                welcome.delete()  # Wagtail's "Welcome" page, a bare page with nothing under it
        else:
            site.save()

    # Snippets, pages, settings.

    def snippets(self, data):
        where = self.file("snippets.json")
        if not isinstance(data, dict):
            raise PackError(f"{where}: an object of lists by kind is expected.")
        unknown = set(data) - set(SNIPPETS)
        if unknown:
            raise PackError(f"{where}: unknown kind(s) {', '.join(sorted(unknown))}.")
        for kind, items in data.items():
            model, key = SNIPPETS[kind]
            if not isinstance(items, list):
                raise PackError(f"{where}: {kind}: a list is expected.")
            seen = {}
            for position, entry in enumerate(items):
                here = f"{where}: {kind}[{position}]"
                if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
                    raise PackError(f"{here}: an object with {key!r} (a string) is expected.")
                here = f"{here} {entry[key]!r}"
                if entry[key] in seen:
                    raise PackError(f"{here}: the same {key} as {kind}[{seen[entry[key]]}].")
                seen[entry[key]] = position
                fields = snippet_fields(model, entry, here)
                default = Locale.get_default()
                found = model.objects.filter(site=self.site, locale=default, **{key: entry[key]})
                if found.exists():
                    continue
                obj = model(site=self.site, live=True, **{"sort_order": position, **fields})
                self.publish_snippet(obj, here)

    def page_fields(self, entry, where):
        _unknown(entry, PAGE_FIELDS | {"body", "children"}, where)
        fields = page_words(entry, where)
        for key in ("slug", "title"):
            if not fields.get(key):
                raise PackError(f"{where}: {key!r} is required.")
        stream_block = HomePage._meta.get_field("body").stream_block
        body = clean_stream_text(stream_block, entry.get("body", []), f"{where}.body")
        fields["body"] = self.stream(stream_block, body, f"{where}.body")
        return fields

    def publish(self, parent, page, where):
        try:
            parent.add_child(instance=page)
        except ValidationError as exc:
            raise PackError(f"{where}: {_messages(exc)}") from None
        page.save_revision().publish()
        self.outcome.created["pages"] += 1
        return page

    def home_page(self, entry, where):
        if not isinstance(entry, dict):
            raise PackError(f"{where}: the home page is expected.")
        root = self.site.root_page.specific
        if isinstance(root, HomePage):
            return root
        fields = self.page_fields(entry, where)
        if root.get_children().filter(slug=fields["slug"]).exists():
            fields["slug"] = f"{fields['slug']}-{self.state.code.lower()}"
        home = self.publish(root, HomePage(**fields), where)
        self.site.root_page = home
        self.site.save()
        return home

    def children(self, parent, entries, where, depth=1):
        if not isinstance(entries, list):
            raise PackError(f"{where}: a list of pages is expected.")
        if entries and depth > MAX_PAGE_DEPTH:
            raise PackError(f"{where}: pages nest deeper than {MAX_PAGE_DEPTH} levels.")
        for i, entry in enumerate(entries):
            here = f"{where}[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
                raise PackError(f"{here}: a page with a 'slug' (a string) is expected.")
            here = f"{here} {entry['slug']!r}"
            if entry["slug"] in self.named:
                # Pages are named by slug in a pack (footer links, choosers): one page a slug.
                raise PackError(f"{here}: the same slug as {self.named[entry['slug']]}.")
            self.named[entry["slug"]] = here.removeprefix(f"{self.file('pages.json')}: ")
            page = TopicPage.objects.child_of(parent).filter(slug=entry["slug"]).first()
            if page is None:
                page = self.publish(parent, TopicPage(**self.page_fields(entry, here)), here)
            self.pages[page.slug] = page
            self.children(page, entry.get("children", []), f"{here}.children", depth + 1)

    def pages_tree(self, data):
        where = f"{self.file('pages.json')}: home"
        if not isinstance(data, dict) or set(data) != {"home"}:
            raise PackError(f"{self.file('pages.json')}: one 'home' page is expected.")
        home = self.home_page(data["home"], where)
        self.pages[home.slug] = home
        self.named = {home.slug: "home"}
        self.children(home, data["home"].get("children", []), f"{where}.children")

    def site_settings(self, data, new_site):
        where = str(self.file(SETTINGS_FILE))
        if not isinstance(data, dict):
            raise PackError(f"{where}: an object is expected.")
        _unknown(data, SETTINGS_FIELDS, where)
        row, new = SiteSettings.objects.get_or_create(site=self.site)
        if not (new or new_site):
            return  # filled once; what editors changed since is theirs
        row.jurisdiction = self.state
        row.time_zone = self.time_zone
        for name in ("national_hotline", "state_tipline"):
            pk = self.natural_key(Hotline, data.get(name), f"{where}: {name}")
            setattr(row, f"{name}_id", pk)
        # The "Staying safe online" page linked beside the quick exit (issue 15a).
        row.safety_page_id = self.natural_key(
            Page, data.get("safety_page"), f"{where}: safety_page"
        )
        # The Get help page the header's hotlines link to, for their entries and sources.
        row.help_page_id = self.natural_key(Page, data.get("help_page"), f"{where}: help_page")
        if data.get("quick_exit_url"):
            row.quick_exit_url = data["quick_exit_url"]
        row.data_contact_email = data.get("data_contact_email") or ""
        row.footer_links = self.stream(
            SiteSettings._meta.get_field("footer_links").stream_block,
            [{"type": "link", "value": link} for link in data.get("footer_links", [])],
            f"{where}: footer_links",
        )
        try:
            row.full_clean()
        except ValidationError as exc:
            raise PackError(f"{where}: {_messages(exc)}") from None
        row.save()
        self.outcome.created["settings"] += 1

    # Translations: each page or snippet entry may hold "translations": {"es": {...}}. They are
    # created once as Wagtail translations of the English (same translation key, the
    # language's locale), then left to the editors.

    def locale(self, code, where):
        if code not in self.languages or code == settings.LANGUAGE_CODE:
            raise PackError(
                f"{where}: {code!r} is not one of the languages manifest.json declares "
                f"beside {settings.LANGUAGE_CODE!r} ({', '.join(self.languages)})."
            )
        return Locale.objects.get_or_create(language_code=code)[0]

    @staticmethod
    def translations_of(entry, where):
        found = entry.get("translations") or {}
        if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
            raise PackError(f'{where}: translations: {{"es": {{...}}}} is expected.')
        return found.items()

    def translate_page(self, page, entry, where):
        for code, spec in self.translations_of(entry, where):
            here = f"{where}.translations.{code}"
            _unknown(spec, PAGE_FIELDS | {"text"}, here)
            words = page_words(spec, here)
            locale = self.locale(code, here)
            if page.get_translation_or_none(locale) is not None:
                continue
            if not self.translation_slug(page, locale, words):
                # No translated parent, or an editor's page holds the slug (say the English
                # page was deleted and made again): the translation is theirs to make.
                continue
            translation = page.copy_for_translation(locale).specific
            for name, value in words.items():
                setattr(translation, name, value)
            translation.body = self.translated_body(page, spec, here)
            try:
                translation.full_clean()
            except ValidationError as exc:
                raise PackError(f"{here}: {_messages(exc)}") from None
            translation.save()
            translation.save_revision().publish()
            self.outcome.created["pages"] += 1
        for child in entry.get("children", []):
            self.translate_page(self.pages[child["slug"]], child, f"{where}.children")

    def translation_slug(self, page, locale, words):
        """Whether the page's translation can be made: its translated parent exists and the
        slug is free. A home page's translation stands beside other states' home pages: its
        slug takes the state's code, as the English one does (sets words["slug"])."""
        parent = page.get_parent()
        if not parent.is_root():
            parent = parent.get_translation_or_none(locale)
        if parent is None:
            return False
        slug = words.get("slug") or page.slug
        if parent.is_root() and parent.get_children().filter(slug=slug).exists():
            slug = words["slug"] = f"{slug}-{self.state.code.lower()}"
        return not parent.get_children().filter(slug=slug).exists()

    def translated_body(self, page, spec, where):
        """The English blocks with their words translated: the same figures, places and
        snippets. A string the pack does not translate stays as it is."""
        stream_block = HomePage._meta.get_field("body").stream_block
        text = self.text_map(spec.get("text") or {}, where)
        raw = translate_stream(list(page.body.raw_data), text)
        raw = clean_stream_text(stream_block, raw, f"{where}.text")
        try:
            return stream_block.clean(stream_block.to_python(raw))
        except ValidationError as exc:
            raise PackError(_block_messages(exc, f"{where}.text")) from None

    @staticmethod
    def text_map(text, where):
        """A translation's {English: translation} strings; the English rich text was cleaned
        when stored, so each HTML string is also looked up as cleaned."""
        if not isinstance(text, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in text.items()
        ):
            raise PackError(f"{where}: text: an object of strings is expected.")
        converter = EditorHTMLConverter()
        cleaned = {converter.to_database_format(k): v for k, v in text.items() if "<" in k}
        return {**cleaned, **text}

    def translate_snippets(self, data):
        where = self.file("snippets.json")
        default = Locale.get_default()
        for kind, items in data.items():
            model, key = SNIPPETS[kind]
            for entry in items:
                here = f"{where}: {kind} {entry[key]!r}"
                for code, fields in self.translations_of(entry, here):
                    here = f"{where}: {kind} {entry[key]!r} translations.{code}"
                    fields = snippet_fields(model, fields, here)
                    locale = self.locale(code, here)
                    original = model.objects.get(
                        site=self.site, locale=default, **{key: entry[key]}
                    )
                    if original.get_translation_or_none(locale) is not None:
                        continue
                    translation = original.copy_for_translation(locale)
                    for name, value in fields.items():
                        setattr(translation, name, value)
                    self.publish_snippet(translation, here)

    def publish_snippet(self, obj, here):
        """Validate, save and publish one snippet (or its translation) the pack creates."""
        try:
            obj.full_clean()
        except ValidationError as exc:
            raise PackError(f"{here}: {_messages(exc)}") from None
        except (TypeError, ValueError) as exc:
            raise PackError(f"{here}: {exc}") from None
        obj.save()
        obj.save_revision().publish()
        self.outcome.created["snippets"] += 1

    def translations(self, pages, snippets):
        self.translate_page(self.site.root_page.specific, pages["home"], "pages.json: home")
        self.translate_snippets(snippets)

    def check_sources(self, catalog):
        """Each source entry against the store: an edition another pack loaded must have the
        same facts (publisher, edition, coverage, dates), else the load stops naming both
        values. Its words (the state summary's title, caveats) may name this state: returns
        the entries whose words are this state's own, to keep beside the shared edition."""
        where = self.file("catalog.json")
        sources = catalog.get("sources", [])
        if not isinstance(sources, list):
            raise PackError(f"{where}: sources: a list is expected.")
        own_words = []
        for i, spec in enumerate(sources):
            here = f"{where}: sources[{i}]"
            if not isinstance(spec, dict) or not isinstance(spec.get("slug"), str):
                raise PackError(f"{here}: an object with 'slug' (a string) is expected.")
            here = f"{here} {spec['slug']!r}"
            stored = Source.objects.filter(slug=spec["slug"]).first()
            if stored is None:
                continue
            for name in SOURCE_FACTS:
                ours, theirs = spec.get(name) or "", getattr(stored, name) or ""
                if isinstance(theirs, (int, datetime.date)):
                    theirs = str(theirs)
                if str(ours) != theirs:
                    raise PackError(
                        f"{here}: {name} is {ours!r} in this pack but {theirs!r} in the store "
                        "(loaded before): one edition is one source; give a different edition "
                        "its own slug."
                    )
            differs = any((spec.get(n) or "") != getattr(stored, n) for n in StateSourceText.WORDS)
            cited = Observation.objects.filter(source=stored, jurisdiction=self.state).exists()
            if differs and not cited:
                own_words.append(spec)
        return own_words

    def check_metrics(self, catalog):
        """A metric another pack loaded must count the same thing in the same unit: a
        different unit or dimension for its slug stops the load naming both values."""
        where = self.file("catalog.json")
        metrics = catalog.get("metrics", [])
        if not isinstance(metrics, list):
            raise PackError(f"{where}: metrics: a list is expected.")
        for i, spec in enumerate(metrics):
            here = f"{where}: metrics[{i}]"
            if not isinstance(spec, dict) or not isinstance(spec.get("slug"), str):
                raise PackError(f"{here}: an object with 'slug' (a string) is expected.")
            stored = Metric.objects.filter(slug=spec["slug"]).select_related("dimension").first()
            if stored is None:
                continue
            theirs = {"unit": stored.unit}
            # A pack that names no dimension gives only totals, which any metric has (the
            # stored metric is kept as it is); one it names must be the stored one.
            if spec.get("dimension"):
                theirs["dimension"] = getattr(stored.dimension, "slug", "")
            for name, value in theirs.items():
                if (spec.get(name) or "") != (value or ""):
                    raise PackError(
                        f"{here} {spec['slug']!r}: {name} is {spec.get(name)!r} in this pack but "
                        f"{value!r} in the store (loaded before): give it another slug."
                    )

    def keep_state_words(self, specs):
        """This state's words for shared editions, created once (then the editors')."""
        for spec in specs:
            StateSourceText.objects.get_or_create(
                source=Source.objects.get(slug=spec["slug"]),
                jurisdiction=self.state,
                defaults={
                    n: spec.get(n) or ""
                    for name in StateSourceText.WORDS
                    for n in (name, *StateSourceText.RENDERINGS.get(name, ()))
                },
            )

    def load_figures(self):
        """The pack's catalog, then its figures through the importer; the import's summary."""
        catalog = self.file("catalog.json")
        data = _read_json(catalog)
        self.check_metrics(data)
        own_words = self.check_sources(data)
        try:
            load_catalog(catalog)
        except (KeyError, TypeError, ValueError, ObjectDoesNotExist, ValidationError) as exc:
            raise PackError(f"{catalog}: {exc!r}") from None
        self.keep_state_words(own_words)
        path = self.file("observations.csv")
        try:
            dataset = read_upload(path.name, path.read_bytes())
        except UploadError as exc:
            raise PackError(f"{path}: {exc}") from None
        outcome = run_import(dataset, dry_run=False, user=None, keep_existing=True)
        if not outcome.ok:
            raise PackError(f"{path}: " + "; ".join(outcome.errors))
        return outcome.summary()

    def run(self):
        with rendering_deferred():
            self.build()
        if self.outcome.created["pages"]:
            # Pages are indexed by their blocks as rendered for the site (pages.search): once
            # each, now that the site, its settings and the translations exist.
            for page in self.pages.values():
                for each in page.get_translations(inclusive=True).specific():
                    index.insert_or_update_object(each)
        self.outcome.site = self.site
        return self.outcome

    def build(self):
        for name in (*FILES, SETTINGS_FILE):
            if not self.file(name).is_file():
                raise PackError(f"{self.file(name)}: missing file.")
        manifest = _read_json(self.file("manifest.json"))
        pages = _read_json(self.file("pages.json"))
        snippets = _read_json(self.file("snippets.json"))
        site_settings = _read_json(self.file(SETTINGS_FILE))

        self.state = self.find_state(manifest)
        self.outcome.figures_imported = self.load_figures()
        self.site, new_site = self.find_site(self.state, manifest)
        self.snippets(snippets)
        self.pages_tree(pages)
        self.site_settings(site_settings, new_site)
        self.translations(pages, snippets)
        self.outcome.languages = self.languages_served()

    def languages_served(self):
        """{code: served?} for each language the manifest declares: served when the home
        page has a translation in it (the site offers only those)."""
        home = self.site.root_page.specific
        have = set(
            home.get_translations(inclusive=True).values_list("locale__language_code", flat=True)
        )
        return {code: code in have for code in self.languages}


def load_pack(path, hostname=None, port=None):
    """Load the pack at `path` in one transaction; raise PackError and change nothing on any
    problem. Returns an Outcome. One load at a time: its first statement writes (changing
    nothing) the first locale row, which PostgreSQL locks until the load ends, and which makes
    SQLite take its write lock before any read, so another writer waits the busy timeout
    instead of failing at once on a read lock it cannot upgrade."""
    try:
        with transaction.atomic():
            first = Locale.objects.order_by("pk").values("pk")[:1]
            Locale.objects.filter(pk__in=first).update(language_code=F("language_code"))
            return Loader(path, hostname=hostname, port=port).run()
    except OperationalError as exc:
        raise PackError(
            f"{path}: the database is busy ({exc}); another load or an import may be writing. "
            "Try again in a moment."
        ) from None
    except RecursionError:
        raise PackError(f"{path}: an entry is nested too deeply to be loaded.") from None
