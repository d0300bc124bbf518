"""Load the reference jurisdictions: the nation, states, DC and territories, the 94 federal
judicial districts and the ten HHS regions (stats/reference/jurisdictions.csv)."""

import csv
from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parent.parent / "reference" / "jurisdictions.csv"


def load(apps, schema_editor):
    Jurisdiction = apps.get_model("stats", "Jurisdiction")
    with CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_code = {}
    for row in rows:  # parents come before their children in the file
        obj, _ = Jurisdiction.objects.get_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "kind": row["kind"],
                "is_territory": row["is_territory"] == "1",
                "parent": by_code.get(row["parent"]),
            },
        )
        by_code[obj.code] = obj


class Migration(migrations.Migration):
    dependencies = [("stats", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
