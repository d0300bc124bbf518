"""The Missouri site's data package: `frictionless validate` (the Python API) passes on every
full download at the shipped size, with the Table Schema the package gives (types, units,
descriptions, the primary key, foreign keys to the metric and place tables); the CSVW metadata
describes the same files; the Data page links them."""

import csv
import io
import json

import frictionless
import pytest
from frictionless.resources import TableResource

from stats.models import DownloadFile, Observation
from stats.opendata import files
from stats.opendata.package import FIGURE_COLUMNS, figure_schema
from stats.opendata.views import PACKAGE_NAMES


def fetch(client, path):
    """A built file: asks for it, builds what was asked (as the worker does), asks again."""
    response = client.get(path)
    if response.status_code == 503:
        for row in DownloadFile.objects.exclude(status=DownloadFile.Status.READY):
            files.build(row.pk)
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def package_folder(client, folder, downloads=True):
    """Every file of the site's package (and the XLSX and JSON downloads) written to a folder,
    under the names the package gives them."""
    for name in PACKAGE_NAMES:
        (folder / name).write_bytes(fetch(client, f"/data/package/{name}"))
    if downloads:
        for fmt in ("xlsx", "json"):
            (folder / f"figures.{fmt}").write_bytes(fetch(client, f"/data/download/{fmt}/"))
    return folder


def errors_of(report):
    return [
        f"{task.name}: {error.type}: {error.message}"
        for task in report.tasks
        for error in task.errors
    ][:10]


def test_the_package_validates_with_frictionless(client, missouri_site, tmp_path):
    folder = package_folder(client, tmp_path)
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, errors_of(report)
    # Every current figure of the state's scope is in figures.csv, every edition's in history.
    rows = list(csv.DictReader(io.StringIO((folder / "figures.csv").read_text("utf-8-sig"))))
    in_scope = Observation.objects.filter(jurisdiction__code="MO") | Observation.objects.filter(
        jurisdiction__parent__code="MO"
    )
    assert len(rows) == in_scope.filter(is_current=True).count()
    history = (folder / "figures-history.csv").read_text("utf-8-sig").splitlines()
    assert len(history) - 1 == in_scope.count()


@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_the_other_downloads_validate_against_the_same_schema(client, missouri_site, tmp_path, fmt):
    folder = package_folder(client, tmp_path)
    schema = frictionless.Schema.from_descriptor(figure_schema())
    schema.foreign_keys = []  # the XLSX and JSON files are checked alone
    place = {"path": f"figures.{fmt}", "basepath": str(folder), "format": fmt}
    resource = TableResource(**place, schema=schema)
    # A spreadsheet leaves empty cells out, and frictionless's XLSX reader then sees a row
    # shorter than the header: an empty trailing cell there is not an error. The CSV of the
    # same rows is checked with every check.
    checklist = frictionless.Checklist(skip_errors=["missing-cell"] if fmt == "xlsx" else [])
    report = frictionless.validate(resource, checklist=checklist)
    assert report.valid, errors_of(report)
    read = TableResource(**place).read_rows()
    current = Observation.objects.filter(is_current=True)
    in_scope = current.filter(jurisdiction__code="MO") | current.filter(
        jurisdiction__parent__code="MO"
    )
    assert len(read) == in_scope.count()


def test_the_package_describes_every_column(client, missouri_site, tmp_path):
    folder = package_folder(client, tmp_path, downloads=False)
    package = json.loads((folder / "datapackage.json").read_text())
    figures = next(r for r in package["resources"] if r["name"] == "figures")
    fields = {f["name"]: f for f in figures["schema"]["fields"]}
    header = (folder / "figures.csv").read_text("utf-8-sig").splitlines()[0].split(",")
    assert list(fields) == header == list(FIGURE_COLUMNS)
    assert all(f["description"] and f["type"] for f in fields.values())
    assert fields["value"]["type"] == "number" and fields["value"]["unit"]
    assert fields["current"]["type"] == "boolean"
    assert figures["schema"]["primaryKey"] == ["jurisdiction", "metric", "period", "breakdown"]
    history = next(r for r in package["resources"] if r["name"] == "figures-history")
    assert history["schema"]["primaryKey"] == [*figures["schema"]["primaryKey"], "source"]
    targets = {k["reference"]["resource"] for k in figures["schema"]["foreignKeys"]}
    assert targets == {"metrics", "jurisdictions"}
    # No edition of the Missouri pack states a licence: the package states none.
    assert "licenses" not in package


def test_a_figure_that_breaks_the_schema_is_found(client, missouri_site, tmp_path):
    """The validation can fail: a figure of an unknown metric, a duplicate key or a value that
    is no number is reported."""
    folder = package_folder(client, tmp_path, downloads=False)
    lines = (folder / "figures.csv").read_text("utf-8-sig").splitlines()
    for broken in (
        lines + [lines[1].replace(lines[1].split(",")[1], "no-such-metric", 1)],
        lines + [lines[1]],
        [lines[0], lines[1].replace(lines[1].split(",")[4], "many", 1), *lines[2:]],
    ):
        (folder / "figures.csv").write_text("\n".join(broken) + "\n", "utf-8-sig")
        report = frictionless.validate(str(folder / "datapackage.json"))
        assert not report.valid


def test_the_csvw_metadata_describes_the_same_tables(client, missouri_site, tmp_path):
    folder = package_folder(client, tmp_path, downloads=False)
    metadata = json.loads((folder / "figures.csv-metadata.json").read_text())
    assert metadata["@context"] == "http://www.w3.org/ns/csvw"
    tables = {t["url"]: t for t in metadata["tables"]}
    for url, table in tables.items():
        header = (folder / url).read_text("utf-8-sig").splitlines()[0].split(",")
        assert [c["name"] for c in table["tableSchema"]["columns"]] == header, url
    keys = tables["figures.csv"]["tableSchema"]["foreignKeys"]
    assert {k["reference"]["resource"] for k in keys} == {"metrics.csv", "jurisdictions.csv"}
    assert all(k["reference"]["resource"] in tables for k in keys)


def test_the_data_page_links_the_package(client, missouri_site):
    from pages.models import TopicPage

    data = TopicPage.objects.get(slug="data", locale__language_code="en")
    html = client.get(data.url).content.decode()
    for link in ("/data/package/datapackage.json", "/data/package/figures.csv-metadata.json",
                 "/data.json"):  # fmt: skip
        assert f'href="{link}"' in html
