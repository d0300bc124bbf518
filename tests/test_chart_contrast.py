"""Chart colours meet WCAG 2.2's 3:1 for graphics (1.4.11) against the white background and
the grey grid; text on charts meets 4.5:1."""

import re
from pathlib import Path

JS = (Path(__file__).resolve().parent.parent / "static" / "js" / "charts.js").read_text()


def luminance(hex_colour):
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def palette():
    block = re.search(r"var PALETTE = \[(.*?)\];", JS, re.S).group(1)
    return re.findall(r'"(#[0-9a-fA-F]{6})"', block)


def test_every_series_colour_has_3_to_1_against_the_background_and_grid():
    colours = palette()
    assert len(colours) >= 6
    grid = re.search(r'grid: \{ color: "(#[0-9a-fA-F]{6})" \}', JS).group(1)
    for colour in colours:
        assert contrast(colour, "#ffffff") >= 3, colour
        assert contrast(colour, grid) >= 3, (colour, grid)


def test_chart_text_has_4_5_to_1():
    text = re.search(r'var TEXT = "(#[0-9a-fA-F]{6})"', JS).group(1)
    assert contrast(text, "#ffffff") >= 4.5
