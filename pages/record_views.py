"""The public record of a site's figures: the revisions log (HTML and Atom) and the release
calendar (HTML and iCalendar). Each site shows its own state's figures; every page is in
the visitor's language and cached like the other public pages (portal/cache.py)."""

from datetime import UTC

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pages.models import SiteSettings
from stats.models import Metric
from stats.opendata.revisions import places_of, public_revisions, release_calendar


def _places(request):
    return places_of(SiteSettings.for_request(request).jurisdiction)


def _filters(request):
    metric = request.GET.get("metric", "").strip()[:80]
    year = request.GET.get("year", "").strip()
    # One figure's entries, as its "revised" mark links them: its place and breakdown.
    figure = {name: request.GET.get(name, "").strip()[:80] for name in ("place", "breakdown")}
    return metric, int(year) if year.isdigit() and len(year) == 4 else None, figure


@require_GET
def revisions(request):
    """Every change of a public figure after it was first published, newest first."""
    metric, year, figure = _filters(request)
    entries = public_revisions(_places(request), metric=metric, year=year, figure=figure)
    return render(
        request,
        "pages/revisions.html",
        {
            "entries": entries,
            "metric": metric,
            "figure": figure,
            "year": year or "",
            "metrics": Metric.objects.order_by("label").only("slug", "label", "label_es"),
        },
    )


class RevisionsFeed(Feed):
    """The revisions log as an Atom feed."""

    feed_type = Atom1Feed

    def get_object(self, request):
        self.request = request
        return _filters(request)

    def title(self):
        return _("Revisions of the figures")

    def subtitle(self):
        return _("Every change of a published figure: what it was, what it is, when and why.")

    def link(self):
        return reverse("revisions")

    def items(self, filters):
        metric, year, figure = filters
        places = _places(self.request)
        return public_revisions(places, metric=metric, year=year, limit=50, figure=figure)

    def item_title(self, entry):
        return f"{entry.figure}: {entry.old or '-'} → {entry.new or '-'} ({entry.kind_label})"

    def item_description(self, entry):
        parts = [str(entry.kind_label)]
        if entry.source:
            parts.append(entry.source.citation)
        if entry.reason:
            parts.append(entry.reason)
        return ". ".join(parts)

    def item_link(self, entry):
        return f"{reverse('revisions')}?metric={entry.metric.slug}#{entry.uid}"

    def item_guid(self, entry):
        return f"{self.request.get_host()}:{entry.uid}"

    item_guid_is_permalink = False

    def item_updateddate(self, entry):
        return entry.at

    def item_pubdate(self, entry):
        return entry.at


@require_GET
def releases(request):
    """The release calendar: scheduled releases ahead, with what they hold, never values."""
    return render(
        request,
        "pages/releases.html",
        {"releases": release_calendar(_places(request)), "now": timezone.now()},
    )


def _ical_text(text):
    text = str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line):
    """RFC 5545 3.1: lines of at most 75 octets, continued with a space."""
    data, out = line.encode(), []
    while len(data) > 75:
        cut = 75 if not out else 74
        while cut and (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
            cut -= 1
        out.append(data[:cut].decode())
        data = data[cut:]
    out.append(data.decode())
    return "\r\n ".join(out)


def _utc(moment):
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@require_GET
def releases_ics(request):
    """The release calendar as iCalendar: one event per release, cancelled ones marked."""
    host = request.get_host().split(":")[0]
    name = _("Release calendar")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{host}//release calendar//{request.LANGUAGE_CODE}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ical_text(name)}",
    ]
    for release in release_calendar(_places(request)):
        if release.when is None:
            continue
        what = "; ".join(str(m.display_label) for m in release.metrics)
        description = [_("Metrics: %(what)s") % {"what": what}]
        description += [s.citation for s in release.sources]
        summary = _("Release: %(sources)s") % {
            "sources": ", ".join(s.citation for s in release.sources)
        }
        last = release.events[-1]
        if last.get("reason"):
            description.append(last["reason"])
        lines += [
            "BEGIN:VEVENT",
            f"UID:release-{release.record.pk}@{host}",
            f"DTSTAMP:{_utc(last['at'] or timezone.now())}",
            f"DTSTART:{_utc(release.when)}",
            f"SUMMARY:{_ical_text(summary)}",
            f"DESCRIPTION:{_ical_text(chr(10).join(description))}",
            f"STATUS:{'CANCELLED' if release.status == 'cancelled' else 'CONFIRMED'}",
            f"SEQUENCE:{len(release.events) - 1}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    body = "".join(_fold(line) + "\r\n" for line in lines)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
