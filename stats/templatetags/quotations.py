"""Text quoted from an English source, on a page in any language."""

from django import template

from stats.display.shaping import quoted as quoted_text

register = template.Library()


@register.filter
def quoted(text, rendering=""):
    """`{{ source.caveat|quoted:source.renderings.caveat }}`: the English as published, marked
    `lang="en"`, after the portal's rendering in the page's language where it gives one."""
    return quoted_text(text, rendering)
