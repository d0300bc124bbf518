"""The vendored Chart.js is the pinned release recorded in static/vendor/chartjs/VERSION."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings

VENDOR = Path(settings.BASE_DIR) / "static" / "vendor" / "chartjs"


def recorded():
    fields = {}
    for line in (VENDOR / "VERSION").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def test_chartjs_file_matches_recorded_checksum():
    fields = recorded()
    content = (VENDOR / fields["file"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == fields["sha256"]


def test_chartjs_is_the_recorded_4x_release_with_its_license():
    fields = recorded()
    version = re.fullmatch(
        r"chart\.js (4\.\d+\.\d+)", (VENDOR / "VERSION").read_text().splitlines()[0]
    )
    assert version, "first line must read: chart.js 4.x.y"
    head = (VENDOR / fields["file"]).read_text()[:200]
    assert f"Chart.js v{version.group(1)}" in head
    assert "MIT License" in (VENDOR / "LICENSE.md").read_text()


def test_source_map_named_by_the_file_is_shipped():
    # The file ends with a sourceMappingURL; the manifest storage needs the map to exist.
    fields = recorded()
    tail = (VENDOR / fields["file"]).read_text()[-200:]
    name = re.search(r"sourceMappingURL=(\S+)", tail).group(1)
    content = (VENDOR / name).read_bytes()
    assert hashlib.sha256(content).hexdigest() == fields["sha256 (source map)"]


def test_charts_script_has_no_remote_or_inline_dependencies():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "charts.js").read_text()
    assert "prefers-reduced-motion" in script
    assert "JSON.parse" in script  # the data comes from json_script elements
    assert "http://" not in script and "https://" not in script
    assert "eval(" not in script and "innerHTML" not in script


# The map's libraries, vendored the same way (npm pack into a temporary folder, then copied).
MAP_VENDORS = {
    "chartjs-chart-geo": ("chartjs-chart-geo", "MIT License"),
    "us-atlas": ("us-atlas", "Permission to use, copy, modify"),
}


def recorded_in(folder):
    fields = {}
    lines = (folder / "VERSION").read_text().splitlines()
    for line in lines[1:]:
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return lines[0], fields


@pytest.mark.parametrize("name", sorted(MAP_VENDORS))
def test_map_library_matches_its_recorded_version_checksum_and_license(name):
    package, license_text = MAP_VENDORS[name]
    folder = Path(settings.BASE_DIR) / "static" / "vendor" / name
    first, fields = recorded_in(folder)
    assert re.fullmatch(rf"{package} \d+\.\d+\.\d+", first), first
    content = (folder / fields["file"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == fields["sha256"]
    if "source map" in fields:
        mapped = (folder / fields["source map"]).read_bytes()
        assert hashlib.sha256(mapped).hexdigest() == fields["sha256 (source map)"]
        tail = content[-200:].decode()
        assert f"sourceMappingURL={fields['source map']}" in tail
    assert license_text in (folder / "LICENSE").read_text()
