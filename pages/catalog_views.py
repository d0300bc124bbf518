"""The site's open-data catalog at /data.json (DCAT-US 3.0, stats/opendata/dcat.py): the
figures of the site's scope, its words in each language the site is translated into."""

import hashlib

from django.http import Http404, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from wagtail.models import Site

from pages.models import SiteSettings, site_state
from stats.models import DataVersion
from stats.opendata import views as downloads
from stats.opendata.dcat import CatalogBuilder
from stats.opendata.metadata import download_scope, scope_facts


def site_languages(site):
    """The languages the site's home page is published in, the default first (Wagtail's cached
    site root paths: no query)."""
    return [r.language_code for r in Site.get_site_root_paths() if r.site_id == site.pk]


@require_safe
def data_catalog(request):
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("No site here.")
    settings = SiteSettings.for_site(site)
    state = settings.jurisdiction
    facts = scope_facts(download_scope(state))
    if not facts:
        raise Http404("This site holds no figures yet.")

    def site_name():
        if state is None:
            return _("Human trafficking figures")
        return _("%(state)s Human Trafficking Data Portal") % {"state": state.display_name}

    languages = site_languages(site)
    # What the catalog is made of: the figures (their version), the site and its settings.
    made_of = (DataVersion.current(), site.root_url, languages, settings.data_contact_email)
    etag = '"' + hashlib.sha256(repr(made_of).encode()).hexdigest()[:32] + '"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is None:
        catalog = CatalogBuilder(
            facts, site.root_url, site_name, languages, settings.data_contact_email
        ).build()
        response = JsonResponse(catalog, json_dumps_params={"ensure_ascii": False, "indent": 1})
        response["Content-Type"] = "application/json; charset=utf-8"
    else:
        response = not_modified
    response["ETag"] = etag
    # Shared caches may keep a copy, but must check the ETag before serving it again.
    patch_cache_control(response, public=True, no_cache=True)
    return response


def data_package(request, name):
    """A file of the site's data package (its scope's, as the downloads are)."""
    return downloads.package_file(request, name, scope=download_scope(site_state(request)))
