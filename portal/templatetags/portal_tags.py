"""Small template helpers for the public pages."""

from django import template
from wagtail.models import Site

register = template.Library()


@register.filter
def model_name(obj):
    """The lower-case model name of an object: "statute", "hotline"..."""
    return obj._meta.model_name


@register.simple_tag(takes_context=True)
def breadcrumbs(context, page):
    """The live ancestors of a page, from the site's home page down (not the page itself)."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else page.get_site()
    if site is None:
        return []
    return list(page.get_ancestors().live().filter(depth__gte=site.root_page.depth))
