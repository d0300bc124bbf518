"""`make bench-import`: the import against a raw-ORM baseline, and a big file through the admin.

Builds synthetic files and a temporary SQLite database (all deleted at the end; nothing is
shipped), then prints:
  1. the ratio import / raw-ORM baseline at 50,000 rows, the two sides interleaved over
     several rounds (median of each; each run on an empty observation table). The baseline
     is a csv reader, dictionary lookups and bulk_create; the import is `import_stats`, which
     also checks every row and records every change for revert and history (target 1.5);
  2. peak Python memory per row of the import (tracemalloc, in a run of its own);
  3. a 200,000-row file through the admin's background path: upload (request), the check
     by a database-backend worker, the preview page, confirm (request), the import by the
     worker; the longest request and the wall time from upload to imported.

Run: .venv/bin/python bench/import_bench.py [--rows N] [--big-rows N] [--rounds N]
"""

import argparse
import csv
import datetime
import io
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--big-rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
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
        print(f"Synthetic file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB", flush=True)

        from stats.models import ImportRecord, Observation, ObservationChange

        def empty():
            ObservationChange.objects.all().delete()
            Observation.objects.all().delete()
            ImportRecord.objects.all().delete()

        baselines, imports = [], []
        for _ in range(args.rounds):
            empty()
            baselines.append(timed(lambda: raw_orm_import(path)))
            assert Observation.objects.count() == args.rows
            empty()
            imports.append(timed(lambda: quiet(call_command, "import_stats", str(path))))
            assert Observation.objects.count() == args.rows
            print(
                f"round {len(imports)}: baseline {baselines[-1]:.2f} s, import {imports[-1]:.2f} s",
                flush=True,
            )
        again = timed(lambda: quiet(call_command, "import_stats", str(path)))
        dry = timed(lambda: quiet(call_command, "import_stats", str(path), dry_run=True))
        baseline, real = statistics.median(baselines), statistics.median(imports)
        print(flush=True)
        print(f"raw ORM baseline (csv + bulk_create): {baseline:6.2f} s  (runs: {fmt(baselines)})")
        print(f"import_stats:                          {real:6.2f} s  (runs: {fmt(imports)})")
        print(f"import_stats again (all unchanged):    {again:6.2f} s")
        print(f"import_stats --dry-run (unchanged):    {dry:6.2f} s")
        ratio = real / baseline
        print(f"ratio import / baseline at {args.rows:,} rows: {ratio:.2f} (target <= 1.5)")

        empty()
        peak = peak_memory(path)
        print(
            f"peak memory of the import: {peak / 1e6:.1f} MB, {peak / args.rows:,.0f} bytes per row"
        )

        empty()
        big = Path(tmp) / "big.csv"
        big.write_bytes(build_file(args.big_rows))
        print(f"Big file: {args.big_rows:,} rows, {big.stat().st_size / 1e6:.1f} MB", flush=True)
        longest, wall = admin_background(big)
        assert Observation.objects.count() == args.big_rows
        print(
            f"admin, {args.big_rows:,} rows: upload to imported {wall:6.2f} s (background "
            f"worker); longest request {longest:.2f} s (target < 10)"
        )
        return 0 if ratio <= 3 else 1


def fmt(times):
    return ", ".join(f"{t:.2f}" for t in times)


def peak_memory(path):
    from stats.exchange import read_upload, run_import

    content = path.read_bytes()
    tracemalloc.start()
    outcome = run_import(read_upload(path.name, content), dry_run=False)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert outcome.imported
    return peak


def admin_background(path):
    """Upload, preview and confirm through the admin, with a database-backend worker."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client, override_settings

    from stats.models import ImportRecord

    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings_storages(), "staticfiles": plain_static}):
        return _admin_background(path, Client, ImportRecord, call_command, get_user_model)


def settings_storages():
    from django.conf import settings

    return dict(settings.STORAGES)


def _admin_background(path, Client, ImportRecord, call_command, get_user_model):
    user = get_user_model().objects.create_superuser("bench-admin", password="x" * 16)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    requests = []

    def request(method, url, **kwargs):
        start = time.perf_counter()
        response = getattr(client, method)(url, **kwargs)
        requests.append(time.perf_counter() - start)
        assert response.status_code in (200, 302), (url, response.status_code)
        return response

    def work():
        quiet(call_command, "db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    started = time.perf_counter()
    with open(path, "rb") as f:
        request("post", "/admin/statistics/import/", data={"file": f})
    record = ImportRecord.objects.latest("created_at")
    request("get", f"/admin/statistics/import/{record.pk}/")  # "checking", refreshes itself
    work()
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.PREVIEWED, (record.status, record.message)
    request("get", f"/admin/statistics/import/{record.pk}/")
    request("post", f"/admin/statistics/import/{record.pk}/confirm/")
    work()
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.IMPORTED, (record.status, record.message)
    request("get", f"/admin/statistics/import/{record.pk}/")
    return max(requests), time.perf_counter() - started


def build_file(rows):
    from stats.models import Category, Dimension, Jurisdiction, Metric, Source

    random.seed(4)
    kind, _ = Dimension.objects.get_or_create(slug="bench-kind", label="Bench kind")
    cats = [
        Category.objects.get_or_create(dimension=kind, slug=f"k{i}", label=f"Kind {i}")[0]
        for i in range(3)
    ]
    metrics = [
        Metric.objects.get_or_create(
            slug=f"bench-{i}", label=f"Bench {i}", unit="count", dimension=kind if i < 20 else None
        )[0]
        for i in range(40)
    ]
    source, _ = Source.objects.get_or_create(
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
