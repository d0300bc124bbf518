from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from pages import catalog_views, record_views, routing, views
from pages import figure_views as stats_views
from stats.opendata.api import api_urls
from stats.opendata.views import place_choices

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": views.PagesSitemap}}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/", api_urls()),
    re_path(
        r"^data/download/(?P<fmt>csv|xlsx|json)/$",
        stats_views.data_download,
        name="data_download",
    ),
    path("data/places/", place_choices, name="data_places"),
    path("data.json", catalog_views.data_catalog, name="data_catalog"),
    path("data/package/<str:name>", catalog_views.data_package, name="data_package"),
    path(
        "figures/<int:page_id>/<uuid:block_id>.csv",
        stats_views.figure_csv,
        name="figure_csv",
    ),
    path("embed/<int:page_id>/<uuid:block_id>/", stats_views.figure_embed, name="figure_embed"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# English at /, Spanish under /es/: search and every Wagtail page, in each language.
urlpatterns += i18n_patterns(
    path("search/", views.search, name="search"),
    path("data/revisions/", record_views.revisions, name="revisions"),
    path("data/revisions.atom", record_views.RevisionsFeed(), name="revisions_feed"),
    path("data/releases/", record_views.releases, name="releases"),
    path("data/releases.ics", record_views.releases_ics, name="releases_ics"),
    # Wagtail's views (a page's password form) as they are; its pages routed without a
    # translation lookup per request (pages.routing), at Wagtail's own pattern, last.
    path("", include([p for p in wagtail_urls.urlpatterns if p.name != "wagtail_serve"])),
    re_path(r"^((?:[\w\-]+/)*)$", routing.serve, name="wagtail_serve"),
    prefix_default_language=False,
)

handler404 = "pages.views.page_not_found"
handler500 = "pages.views.server_error"
