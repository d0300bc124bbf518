"""Load a state pack: one state's catalog, figures, pages, snippets and site settings.

A pack is a folder (see README, "State packs"). `load_pack()` creates what is missing and never
touches what exists, so editors' and data managers' later changes survive, and a second run
changes nothing. Everything goes through the paths staff use: figures through the importer,
page bodies through the block classes (an unknown block or field stops the load), snippets and
settings through their models' validation. A bad pack stops with a message naming the file and
the entry, inside one transaction, so nothing is changed. Entries may carry their translations
("translations": {"es": {...}}), loaded as Wagtail translations of the English.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from wagtail import blocks
from wagtail.models import Locale, Page, Site
from wagtail.search import index

from pages.models import HomePage, SiteSettings, TopicPage
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
from stats.models import Jurisdiction, Metric, Source
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
MANIFEST_FIELDS = {"format", "jurisdiction", "name", "site_name", "hostname", "language"}
SETTINGS_FIELDS = {
    "national_hotline",
    "state_tipline",
    "quick_exit_url",
    "footer_links",
    "safety_page",
    "help_page",
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
    figures: str = ""
    created: dict = field(default_factory=lambda: {"pages": 0, "snippets": 0, "settings": 0})
    site: Site = None

    def summary(self):
        c = self.created
        content = (
            f"{c['pages']} pages and {c['snippets']} snippets created"
            + (", site settings filled in" if c["settings"] else "")
            if any(c.values())
            else "nothing to do: every page, snippet and setting exists"
        )
        return f"{self.site}: figures: {self.figures}; content: {content}."


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise PackError(f"{path}: missing file.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackError(f"{path}: not valid JSON ({exc}).") from None


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

    def file(self, name):
        return self.path / name

    # References by natural key, as the pack names them.

    def natural_key(self, model, key, where):
        if key is None or key == "":
            return None
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
            if not isinstance(data, list):
                raise PackError(f"{where}: a list of blocks is expected.")
            out = []
            for i, child in enumerate(data):
                here = f"{where}[{i}]"
                if not isinstance(child, dict) or set(child) - {"type", "value", "id"}:
                    raise PackError(f'{here}: a block is {{"type": ..., "value": ...}}.')
                kind = child.get("type")
                if kind not in block.child_blocks:
                    raise PackError(f"{here}: unknown block type {kind!r}.")
                value = self.resolve(block.child_blocks[kind], child.get("value"), here)
                out.append({"type": kind, "value": value})
            return out
        if isinstance(block, blocks.StructBlock):
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

    def stream(self, stream_block, data, where):
        """A StreamValue built and validated by the block classes."""
        raw = self.resolve(stream_block, data, where)
        try:
            return stream_block.clean(stream_block.to_python(raw))
        except ValidationError as exc:
            raise PackError(_block_messages(exc, where)) from None

    # The state and its site.

    def find_state(self, manifest):
        where = self.file("manifest.json")
        _unknown(manifest, MANIFEST_FIELDS, str(where))
        for key in ("jurisdiction", "name", "hostname"):
            if not isinstance(manifest.get(key), str) or not manifest[key].strip():
                raise PackError(f"{where}: {key!r} is required.")
        if manifest.get("format", 1) != 1:
            raise PackError(f"{where}: format {manifest['format']!r} is not known (1 is).")
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
        if new:
            default = Site.objects.filter(is_default_site=True).first()
            if default is not None and not isinstance(default.root_page.specific, HomePage):
                site = default
            else:
                site = Site(is_default_site=default is None)
        hostname = self.hostname or (manifest["hostname"] if new else site.hostname)
        port = self.port or (80 if new else site.port)
        taken = Site.objects.filter(hostname=hostname, port=port).exclude(pk=site.pk).first()
        if taken is not None:
            raise PackError(
                f"{self.file('manifest.json')}: {hostname}:{port} already serves {taken}; "
                "choose another --hostname or --port."
            )
        site.hostname, site.port = hostname, port
        site.site_name = site.site_name or manifest.get("site_name", "")
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
        return site, new

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
            names = {f.name for f in model._meta.concrete_fields} - {"id", "site", "live"}
            for position, entry in enumerate(items):
                here = f"{where}: {kind}[{position}]"
                if not isinstance(entry, dict) or not entry.get(key):
                    raise PackError(f"{here}: an object with {key!r} is expected.")
                here = f"{here} {entry[key]!r}"
                _unknown(entry, names, here)
                default = Locale.get_default()
                found = model.objects.filter(site=self.site, locale=default, **{key: entry[key]})
                if found.exists():
                    continue
                fields = {k: v for k, v in entry.items() if k not in RESERVED}
                obj = model(site=self.site, live=True, **{"sort_order": position, **fields})
                self.publish_snippet(obj, here)

    def page_fields(self, entry, where):
        _unknown(entry, PAGE_FIELDS | {"body", "children"}, where)
        for key in ("slug", "title"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise PackError(f"{where}: {key!r} is required.")
        fields = {k: v for k, v in entry.items() if k in PAGE_FIELDS}
        fields["body"] = self.stream(
            HomePage._meta.get_field("body").stream_block, entry.get("body", []), f"{where}.body"
        )
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

    def children(self, parent, entries, where):
        if not isinstance(entries, list):
            raise PackError(f"{where}: a list of pages is expected.")
        for i, entry in enumerate(entries):
            here = f"{where}[{i}]"
            if not isinstance(entry, dict) or not entry.get("slug"):
                raise PackError(f"{here}: a page with a 'slug' is expected.")
            here = f"{here} {entry['slug']!r}"
            page = TopicPage.objects.child_of(parent).filter(slug=entry["slug"]).first()
            if page is None:
                page = self.publish(parent, TopicPage(**self.page_fields(entry, here)), here)
            self.pages[page.slug] = page
            self.children(page, entry.get("children", []), f"{here}.children")

    def pages_tree(self, data):
        where = f"{self.file('pages.json')}: home"
        if not isinstance(data, dict) or set(data) != {"home"}:
            raise PackError(f"{self.file('pages.json')}: one 'home' page is expected.")
        home = self.home_page(data["home"], where)
        self.pages[home.slug] = home
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
        if code not in dict(settings.WAGTAIL_CONTENT_LANGUAGES):
            raise PackError(f"{where}: {code!r} is not one of WAGTAIL_CONTENT_LANGUAGES.")
        return Locale.objects.get_or_create(language_code=code)[0]

    def translate_page(self, page, entry, where):
        for code, spec in (entry.get("translations") or {}).items():
            here = f"{where}.translations.{code}"
            _unknown(spec, PAGE_FIELDS | {"text"}, here)
            locale = self.locale(code, here)
            if page.get_translation_or_none(locale) is not None:
                continue
            parent = page.get_parent()
            if not parent.is_root():
                parent = parent.get_translation_or_none(locale)
            if parent is None or parent.get_children().filter(slug=spec.get("slug")).exists():
                # No translated parent, or an editor's page holds the slug (say the English
                # page was deleted and made again): the translation is theirs to make.
                continue
            translation = page.copy_for_translation(locale).specific
            for name in PAGE_FIELDS & set(spec):
                setattr(translation, name, spec[name])
            # The English blocks with their words translated: the same figures, places and
            # snippets. A string the pack does not translate stays as it is.
            text = spec.get("text") or {}
            stream_block = HomePage._meta.get_field("body").stream_block
            raw = translate_stream(list(page.body.raw_data), text)
            try:
                translation.body = stream_block.clean(stream_block.to_python(raw))
            except ValidationError as exc:
                raise PackError(_block_messages(exc, f"{here}.text")) from None
            try:
                translation.full_clean()
            except ValidationError as exc:
                raise PackError(f"{here}: {_messages(exc)}") from None
            translation.save()
            translation.save_revision().publish()
            self.outcome.created["pages"] += 1
        for child in entry.get("children", []):
            self.translate_page(self.pages[child["slug"]], child, f"{where}.children")

    def translate_snippets(self, data):
        where = self.file("snippets.json")
        default = Locale.get_default()
        for kind, items in data.items():
            model, key = SNIPPETS[kind]
            names = {f.name for f in model._meta.concrete_fields} - {"id", "site", "live"}
            for entry in items:
                for code, fields in (entry.get("translations") or {}).items():
                    here = f"{where}: {kind} {entry[key]!r} translations.{code}"
                    _unknown(fields, names, here)
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
        obj.save()
        obj.save_revision().publish()
        self.outcome.created["snippets"] += 1

    def translations(self, pages, snippets):
        self.translate_page(self.site.root_page.specific, pages["home"], "pages.json: home")
        self.translate_snippets(snippets)

    def figures(self):
        catalog = self.file("catalog.json")
        _read_json(catalog)
        try:
            load_catalog(catalog)
        except (KeyError, TypeError, ValueError, ObjectDoesNotExist, ValidationError) as exc:
            raise PackError(f"{catalog}: {exc!r}") from None
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
        from pages.search import rendering_deferred

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
        if not isinstance(manifest, dict):
            raise PackError(f"{self.file('manifest.json')}: an object is expected.")
        pages = _read_json(self.file("pages.json"))
        snippets = _read_json(self.file("snippets.json"))
        site_settings = _read_json(self.file(SETTINGS_FILE))

        self.state = self.find_state(manifest)
        self.outcome.figures = self.figures()
        self.site, new_site = self.find_site(self.state, manifest)
        self.snippets(snippets)
        self.pages_tree(pages)
        self.site_settings(site_settings, new_site)
        self.translations(pages, snippets)


def load_pack(path, hostname=None, port=None):
    """Load the pack at `path` in one transaction; raise PackError and change nothing on any
    problem. Returns an Outcome."""
    with transaction.atomic():
        return Loader(path, hostname=hostname, port=port).run()
