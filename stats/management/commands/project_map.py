"""Project the vendored US atlas into the SVG map's shapes (static/data/us-states.json).

Run when the atlas changes; the output is committed, so no page projects anything."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from stats.display.geo import ATLAS_FILE, SHAPES_FILE, project_atlas


class Command(BaseCommand):
    help = "Write static/data/us-states.json: the states' shapes, projected, as SVG paths."

    def handle(self, *args, **options):
        static = Path(settings.BASE_DIR) / "static"
        atlas = json.loads((static / ATLAS_FILE).read_text(encoding="utf-8"))
        out = static / SHAPES_FILE
        out.parent.mkdir(parents=True, exist_ok=True)
        shapes = project_atlas(atlas)
        out.write_text(json.dumps(shapes, separators=(",", ":"), sort_keys=True) + "\n")
        self.stdout.write(f"Wrote {len(shapes['states'])} states to {out}.")
