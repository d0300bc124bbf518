"""Small template helpers for the public pages."""

from django import template
from django.db.models import Q
from wagtail.models import Page, Site

register = template.Library()


@register.filter
def model_name(obj):
    """The lower-case model name of an object: "statute", "hotline"..."""
    return obj._meta.model_name


def _site_root_path(request):
    """The url_path of the request's site's root page, from Wagtail's cached site root paths."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return None
    return next((r.root_path for r in Site.get_site_root_paths() if r.site_id == site.pk), None)


def _depth(url_path):
    """The tree depth of the page at a url_path: "/home/" is 2 (the tree's root is 1)."""
    return url_path.strip("/").count("/") + 2


@register.simple_tag(takes_context=True)
def breadcrumbs(context, page):
    """The live ancestors of a page, from the site's home page down (not the page itself)."""
    root_path = _site_root_path(context.get("request"))
    if root_path is None:
        return []
    return list(page.get_ancestors().live().filter(depth__gte=_depth(root_path)))


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The site's home page and its live children shown in menus, in one query.

    The site's root path comes from Wagtail's cached site root paths, so no query is spent on
    the Site or its root page.
    """
    root_path = _site_root_path(context.get("request"))
    if root_path is None:
        return []
    return list(
        Page.objects.live()
        .filter(
            Q(url_path=root_path)
            | Q(url_path__startswith=root_path, depth=_depth(root_path) + 1, show_in_menus=True)
        )
        .order_by("path")
    )
