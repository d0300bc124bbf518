"""`make bench-import`: time the import command against a raw-ORM baseline.

Builds a synthetic 50,000-row file and a temporary SQLite database (both deleted at the
end; nothing is shipped), then times, each on an empty observation table:
  1. a raw-ORM baseline: csv reader, dictionary lookups and bulk_create of the same rows;
  2. `import_stats FILE --dry-run`;
  3. `import_stats FILE`.
Prints the times and the ratio import / baseline (target: 3 or less).

Run: .venv/bin/python bench/import_bench.py [--rows N]
"""

import argparse
import csv
import datetime
import io
import itertools
import os
import random
import sys
import tempfile
import time
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"  # production, DEBUG off
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        assert str(settings.DATABASES["default"]["NAME"]).startswith(tmp), "not a temporary db"
        print("Migrating a temporary database...", flush=True)
        call_command("migrate", verbosity=0)
        path = Path(tmp) / "synthetic.csv"
        path.write_bytes(build_file(args.rows))
        print(f"Synthetic file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")

        from stats.models import Observation

        baseline = timed(lambda: raw_orm_import(path))
        assert Observation.objects.count() == args.rows
        Observation.objects.all().delete()

        dry = timed(lambda: quiet(call_command, "import_stats", str(path), dry_run=True))
        assert Observation.objects.count() == 0
        real = timed(lambda: quiet(call_command, "import_stats", str(path)))
        assert Observation.objects.count() == args.rows
        again = timed(lambda: quiet(call_command, "import_stats", str(path)))

        print(f"raw ORM baseline (csv + bulk_create): {baseline:6.2f} s")
        print(f"import_stats --dry-run:                {dry:6.2f} s")
        print(f"import_stats:                          {real:6.2f} s")
        print(f"import_stats again (all unchanged):    {again:6.2f} s")
        ratio = real / baseline
        print(f"ratio import / baseline: {ratio:.2f} (target <= 3)")
        print(f"ratio dry run / import:  {dry / real:.2f} (target <= 1)")
        return 0 if ratio <= 3 else 1


def build_file(rows):
    from stats.models import Category, Dimension, Jurisdiction, Metric, Source

    random.seed(4)
    kind = Dimension.objects.create(slug="bench-kind", label="Bench kind")
    cats = [
        Category.objects.create(dimension=kind, slug=f"k{i}", label=f"Kind {i}") for i in range(3)
    ]
    metrics = [
        Metric.objects.create(
            slug=f"bench-{i}", label=f"Bench {i}", unit="count", dimension=kind if i < 3 else None
        )
        for i in range(12)
    ]
    source = Source.objects.create(
        slug="bench-source", publisher="Bench", title="Bench", edition="1", edition_year=2020
    )
    codes = list(Jurisdiction.objects.values_list("code", flat=True))
    keys = []
    for metric in metrics:
        breakdowns = [""] + [c.slug for c in cats] if metric.dimension_id else [""]
        keys.append(itertools.product([metric.slug], codes, range(1995, 2021), breakdowns))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["jurisdiction", "metric", "period", "breakdown", "value", "source"])
    for metric, code, year, breakdown in itertools.islice(itertools.chain(*keys), rows):
        writer.writerow([code, metric, year, breakdown, random.randint(0, 5000), source.slug])
    return out.getvalue().encode()


def raw_orm_import(path):
    """The floor: read the CSV and bulk_create, resolving codes with dictionaries."""
    from stats.models import Category, Jurisdiction, Metric, Observation, Source

    jurisdictions = {j.code: j.pk for j in Jurisdiction.objects.all()}
    metrics = {m.slug: m.pk for m in Metric.objects.all()}
    sources = {s.slug: s.pk for s in Source.objects.all()}
    categories = {c.slug: c.pk for c in Category.objects.all()}
    objects = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            year = int(row["period"])
            objects.append(
                Observation(
                    jurisdiction_id=jurisdictions[row["jurisdiction"]],
                    metric_id=metrics[row["metric"]],
                    source_id=sources[row["source"]],
                    breakdown_id=categories.get(row["breakdown"]),
                    period_start=datetime.date(year, 1, 1),
                    period_end=datetime.date(year, 12, 31),
                    value=Decimal(row["value"]),
                )
            )
    Observation.objects.bulk_create(objects, batch_size=2000)


def quiet(function, *args, **kwargs):
    with redirect_stdout(io.StringIO()):
        return function(*args, **kwargs)


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
