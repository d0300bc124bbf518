"""One figure of a public page on its own: its CSV, and its embeddable view.

Both find the block by the page's id and the block's StreamField id (or, in a row of key
figures, the item's id), so their URLs survive edits to the rest of the page. Only live pages
without a view restriction are served.
"""

from csp.decorators import csp_replace
from django.conf import settings
from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.text import slugify
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from wagtail.models import Site

from pages.models import figure_page_context, site_state
from pages.views import site_pages
from stats.display.batch import FigureStore, batched_snippets
from stats.exchange.exporting import stream_csv
from stats.models import DownloadFile, Jurisdiction, Observation
from stats.opendata import views as downloads
from stats.store.history import parse_moment


def public_page(request, page_id):
    """A live public page of the site that serves the request: another state's page, embed or
    CSV is not found on this host (it would carry this site's name beside another's figures)."""
    site = Site.find_for_request(request)
    page = None
    if site is not None:
        page = site_pages(site).filter(pk=page_id).specific().first()
    if page is None or not hasattr(page, "body"):
        raise Http404("No such page.")
    return page


def find_block(page, block_id):
    """(block, value, title) of the figure block with this id in the page's body."""
    with batched_snippets(page.body):
        children = list(page.body)
    for child in children:
        if not hasattr(child.block, "figure_selections"):
            continue
        if child.id == block_id:
            return child.block, child.value
        listed = child.value.get("figures") if hasattr(child.value, "get") else None
        for item in getattr(listed, "bound_blocks", ()):
            if item.id == block_id:
                return child.block.child_blocks["figures"].child_block, item.value
    raise Http404("No such figure on this page.")


def figure_title(block, value):
    if hasattr(block, "label_of"):
        return block.label_of(value)
    return value.get("title") or value.get("heading") or "figure"


def _with_other_editions(observations):
    """The shown figures and every other edition's value of the same figures (the values the
    page notes), as the bulk download lists them: in key order, current first."""
    keys = {o.key for o in observations}
    if not keys:
        return Observation.objects.none()
    match = Q(
        *(Q(metric_id=m, jurisdiction_id=j, period_start=s, period_end=e, breakdown_id=b)
          for m, j, s, e, b in keys),
        _connector=Q.OR,
    )  # fmt: skip
    return Observation.objects.filter(match).by_key()


def _public(response):
    # Like a public page (portal.cache): anyone may keep it briefly; it sets no cookie.
    patch_cache_control(
        response,
        public=True,
        max_age=settings.PUBLIC_PAGE_MAX_AGE,
        s_maxage=settings.PUBLIC_PAGE_SHARED_MAX_AGE,
    )
    return response


@require_safe
def figure_csv(request, page_id, block_id):
    """The figures one chart or key figure shows, named after it, in the bulk download's
    columns (labels, units, editions, `current`), with the other editions' values."""
    page = public_page(request, page_id)
    block_id = str(block_id)
    block, value = find_block(page, block_id)
    store = FigureStore.for_block(
        block, value, state=site_state(request), as_of=parse_moment(request.GET.get("as_of"))
    )
    observations = []
    for selection in store.selections:
        observations.extend(store.observations(selection))
    chart_figures = getattr(block, "plotted", None)
    if chart_figures is not None:
        observations = chart_figures(value, store)
    title = figure_title(block, value)
    response = StreamingHttpResponse(
        stream_csv(_with_other_editions(dict.fromkeys(observations)), store.state),
        content_type="text/csv; charset=utf-8",
    )
    name = slugify(title)[:80] or "figure"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return _public(response)


@require_safe
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
def figure_embed(request, page_id, block_id):
    """One chart (or key figure) alone, for other sites to frame: title, chart, table,
    source with edition and "data as of", and a link back. The rest of the site refuses to be
    framed (X-Frame-Options DENY, frame-ancestors 'none'); only this view allows it, with the
    same strict script policy."""
    page = public_page(request, page_id)
    # The embed of a Spanish page is in Spanish: its tables, buttons and credits, lang="es".
    language = page.locale.language_code
    with translation.override(language):
        response = _render_embed(request, page, str(block_id))
    response["Content-Language"] = language
    # Cached and marked public by the page cache, like a page (portal/cache.py).
    return response


def _render_embed(request, page, block_id):
    block, value = find_block(page, block_id)
    as_of = parse_moment(request.GET.get("as_of"))
    store = FigureStore.for_block(block, value, state=site_state(request), as_of=as_of)
    context = {
        "figures_as_of": as_of,
        "page": page,
        "request": request,
        "figure_store": store,
        "block_id": block_id,
        "embedded": True,
        **figure_page_context(page, request),
    }
    rendered = block.render(value, context=context)
    return render(
        request,
        "stats/embed.html",
        {
            "page": page,
            "rendered": rendered,
            "figure_store": store,
            "title": figure_title(block, value),
            "figures_as_of": as_of,
            **figure_page_context(page, request),
        },
    )


def data_download(request, fmt):
    """The downloads, scoped to the site: a state site's full files hold its state's figures
    (and those of the places within it); the national site's, every figure."""
    place = site_state(request)
    state = place and place.kind == Jurisdiction.Kind.STATE
    scope = place.code if state else DownloadFile.NATIONAL
    return downloads.data_download(request, fmt, scope=scope)
