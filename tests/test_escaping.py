"""Text from imports and from editors stays inert wherever it is shown (issue 9).

A footnote holding a script tag comes in through the real spreadsheet importer; the labels
and the chart title hold markup typed by an editor. The public page, the chart's JSON data
and the CSV download must all carry them as text.
"""

import csv
import html
import io
import json
import re

import pytest
from django.urls import reverse
from wagtail.models import Page, Site

from pages.models import HomePage
from stats.exchange import read_upload, run_import
from stats.models import Category, Dimension, Jurisdiction, Metric, Observation, Source

pytestmark = pytest.mark.django_db


SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '</script><script>alert("label")</script>'
ATTRIBUTE = '" onmouseover="alert(2)'
FORMULA = '=HYPERLINK("http://attacker.example/","Click")'


@pytest.fixture
def hostile_figures():
    kind = Dimension.objects.create(slug="esc-kind", label="Type")
    Category.objects.create(dimension=kind, slug="sex", label=f"Sex {BREAKOUT}", sort_order=1)
    Category.objects.create(dimension=kind, slug="labor", label="Labor", sort_order=2)
    metric = Metric.objects.create(
        slug="esc-cases", label=f"Cases {ATTRIBUTE}", unit="count", dimension=kind
    )
    Source.objects.create(
        slug="esc-report-2019",
        publisher="Test Institute",
        title="Test Report",
        edition="2019 edition",
        edition_year=2019,
    )
    rows = [
        "jurisdiction,metric,period,breakdown,value,footnote,source",
        f'MO,esc-cases,2019,,10,"{SCRIPT}",esc-report-2019',
        "MO,esc-cases,2019,sex,7,,esc-report-2019",
        f'MO,esc-cases,2019,labor,3,"{FORMULA.replace(chr(34), chr(34) * 2)}",esc-report-2019',
    ]
    outcome = run_import(
        read_upload("hostile.csv", "\n".join(rows).encode()), dry_run=False, user=None
    )
    assert not outcome.errors, outcome.errors
    assert Observation.objects.get(breakdown=None).footnote == SCRIPT
    return metric


def _chart(metric, by_breakdown):
    return {
        "type": "chart",
        "value": {
            "title": f"Chart {SCRIPT}",
            "metrics": [metric.pk],
            "jurisdictions": [Jurisdiction.objects.get(code="MO").pk],
            "from_year": None,
            "to_year": None,
            "by_breakdown": by_breakdown,
            "chart_type": "bar",
            "description": f"Described {SCRIPT}",
            "note": f"Note {SCRIPT}",
        },
    }


@pytest.fixture
def hostile_page(hostile_figures):
    root = Page.get_first_root_node()
    home = root.add_child(
        instance=HomePage(
            title="Home",
            slug="escaping-home",
            body=[_chart(hostile_figures, False), _chart(hostile_figures, True)],
        )
    )
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
    )
    return home


@pytest.fixture
def public_html(client, hostile_page):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def json_scripts(text):
    return re.findall(r'<script id="[^"]+" type="application/json">(.*?)</script>', text, re.S)


def test_footnote_is_text_in_the_page(public_html):
    assert SCRIPT not in public_html
    # Shown as text in the chart's notes, not dropped.
    notes = re.findall(r'<ol class="figure-notes__list">(.*?)</ol>', public_html, re.S)
    assert notes and "&lt;script&gt;alert(1)&lt;/script&gt;" in notes[0]


def test_editor_text_is_text_in_the_page(public_html):
    assert "<script>alert(" not in public_html
    assert 'onmouseover="alert(2)' not in public_html
    assert "Chart &lt;script&gt;" in public_html
    assert "Described &lt;script&gt;" in public_html


def test_only_external_and_json_scripts_in_the_page(public_html):
    for tag in re.findall(r"<script\b[^>]*>", public_html):
        data = ('type="application/json"', 'type="application/ld+json"')
        assert " src=" in tag or any(kind in tag for kind in data), tag
    # The Dataset markup is data too: nothing in it closes its tag.
    for blob in re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', public_html, re.S
    ):
        assert "<" not in blob, blob


def test_chart_json_escapes_markup(public_html):
    blobs = json_scripts(public_html)
    # One per chart drawn; a chart of a single value is shown as a key figure, with no JSON.
    assert blobs
    for blob in blobs:
        # json_script turns <, > and & into \u003C, \u003E, \u0026: nothing closes the tag.
        assert "<" not in blob and ">" not in blob
        assert "\\u003C" in blob
    configs = [json.loads(blob) for blob in blobs]
    # Decoded, the data is exactly what was typed.
    assert configs[0]["title"] == f"Chart {SCRIPT}"
    labels = [d["label"] for c in configs for d in c["datasets"]]
    labels += [label for c in configs for label in c["labels"]]
    assert any(BREAKOUT in label for label in labels), labels


def _download(client, query):
    response = client.get(reverse("data_download", args=["csv"]), query)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8-sig")


def test_csv_download_is_an_attachment_with_inert_text(client, hostile_figures):
    response, text = _download(
        client, {"metric": "esc-cases", "jurisdiction": "MO", "breakdown": "all"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    rows = {r["breakdown"]: r for r in csv.DictReader(io.StringIO(text))}
    # Data, unchanged: a CSV is not HTML, so the footnote is exactly as published.
    assert rows[""]["footnote"] == SCRIPT
    # A spreadsheet would run a cell starting with "="; the export neutralises it.
    assert rows["labor"]["footnote"] == "'" + FORMULA
    assert not any(line.startswith("=") or ",=" in line for line in text.splitlines())


def test_chart_csv_link_from_the_page(client, public_html):
    links = re.findall(r'<a href="([^"]+)" download', public_html)
    assert links, "the charts link their CSV"
    response = client.get(html.unescape(links[0]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SCRIPT in body.decode("utf-8-sig")
