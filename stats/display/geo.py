"""States on the US map: each jurisdiction code's FIPS code, the id of its shape in the
vendored us-atlas file (static/vendor/us-atlas/states-10m.json), and the shapes projected
from it for the server-drawn SVG map."""

import functools
import itertools
import json
import math

from django.contrib.staticfiles import finders

FIPS = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09",
    "DE": "10", "DC": "11", "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17",
    "IN": "18", "IA": "19", "KS": "20", "KY": "21", "LA": "22", "ME": "23", "MD": "24",
    "MA": "25", "MI": "26", "MN": "27", "MS": "28", "MO": "29", "MT": "30", "NE": "31",
    "NV": "32", "NH": "33", "NJ": "34", "NM": "35", "NY": "36", "NC": "37", "ND": "38",
    "OH": "39", "OK": "40", "OR": "41", "PA": "42", "RI": "44", "SC": "45", "SD": "46",
    "TN": "47", "TX": "48", "UT": "49", "VT": "50", "VA": "51", "WA": "53", "WV": "54",
    "WI": "55", "WY": "56", "AS": "60", "GU": "66", "MP": "69", "PR": "72", "VI": "78",
}  # fmt: skip


# --- The shapes, projected once (manage.py project_map) and drawn as SVG paths -------------
#
# The projection is d3's geoAlbersUsa at its default size (960 x 500): the lower 48 on a conic
# equal-area projection, Alaska and Hawaii each on its own, moved below the west coast.

WIDTH, HEIGHT, SCALE = 960, 500, 1070
SHAPES_FILE = "data/us-states.json"  # under static/, written by project_map
ATLAS_FILE = "vendor/us-atlas/states-10m.json"
# Places of the atlas left off the map, as the map has always drawn it: the territories.
OFF_MAP = {"60", "66", "69", "72", "78"}

# (rotation, center, parallels, scale factor, translate offset) of each part of the map.
LOWER_48 = (96, (-0.6, 38.7), (29.5, 45.5), 1, (0, 0))
ALASKA = (154, (-2, 58.5), (55, 65), 0.35, (-0.307, 0.201))
HAWAII = (157, (-3, 19.9), (8, 18), 1, (-0.205, 0.212))
PART = {"02": ALASKA, "15": HAWAII}


def conic_equal_area(parallels):
    """d3's conicEqualAreaRaw: (lambda, phi) in radians to a point of the plane."""
    sy0 = math.sin(math.radians(parallels[0]))
    n = (sy0 + math.sin(math.radians(parallels[1]))) / 2
    c = 1 + sy0 * (2 * n - sy0)
    r0 = math.sqrt(c) / n

    def project(x, y):
        r = math.sqrt(max(c - 2 * n * math.sin(y), 0)) / n
        return r * math.sin(x * n), r0 - r * math.cos(x * n)

    return project


def projection(part):
    rotation, center, parallels, factor, offset = part
    raw = conic_equal_area(parallels)
    k = SCALE * factor
    cx, cy = raw(math.radians(center[0]), math.radians(center[1]))
    tx, ty = WIDTH / 2 + offset[0] * SCALE, HEIGHT / 2 + offset[1] * SCALE

    def project(lon, lat):
        lam = math.radians(((lon + rotation + 180) % 360) - 180)
        x, y = raw(lam, math.radians(lat))
        return tx + k * (x - cx), ty - k * (y - cy)

    return project


def decode_arcs(atlas):
    """The atlas's arcs as lists of (longitude, latitude) (TopoJSON's quantized deltas)."""
    (sx, sy), (tx, ty) = atlas["transform"]["scale"], atlas["transform"]["translate"]
    arcs = []
    for arc in atlas["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(ring, arcs):
    points = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def path_data(polygons, arcs, project):
    """An SVG path's `d` of polygons of rings of arc indexes, in whole pixels of the viewBox
    (each step relative to the one before), without the points that round onto it."""
    parts = []
    for polygon in polygons:
        for ring in polygon:
            drawn = []
            for lon, lat in ring_points(ring, arcs):
                x, y = project(lon, lat)
                point = (round(x), round(y))
                if not drawn or point != drawn[-1]:
                    drawn.append(point)
            if len(drawn) >= 3:
                steps = (f"{x - px} {y - py}" for (px, py), (x, y) in itertools.pairwise(drawn))
                parts.append(f"M{drawn[0][0]} {drawn[0][1]}l" + " ".join(steps) + "z")
    return "".join(parts)


def project_atlas(atlas):
    """{FIPS: {"name", "d"}} of every state drawn on the map, from the us-atlas TopoJSON."""
    arcs = decode_arcs(atlas)
    shapes = {}
    for geometry in atlas["objects"]["states"]["geometries"]:
        fips = geometry["id"]
        if fips in OFF_MAP:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        project = projection(PART.get(fips, LOWER_48))
        shapes[fips] = {
            "name": geometry["properties"]["name"],
            "d": path_data(polygons, arcs, project),
        }
    return {"width": WIDTH, "height": HEIGHT, "states": shapes}


@functools.cache
def state_shapes():
    """The projected shapes (static/data/us-states.json), read once per process."""
    with open(finders.find(SHAPES_FILE), encoding="utf-8") as f:
        return json.load(f)
