"""`make bench-import`: the import against a raw-ORM baseline, and a big file through the admin.

Builds synthetic files and a temporary SQLite database (all deleted at the end; nothing is
shipped), then prints:
  1. the ratio import / raw-ORM baseline at 50,000 rows, the two sides interleaved over
     several rounds (median of each; each run on an empty observation table). The baseline
     is a csv reader, dictionary lookups and bulk_create; the import is `import_stats`, which
     also checks every row and records every change for revert and history (target 1.5);
  2. peak Python memory per row of the import (tracemalloc, in a run of its own)
     (--rows 0 skips 1 and 2);
  3. a 200,000-row file through the admin's background path: upload (request), the check
     by a database-backend worker, the preview page, confirm (request), the import by the
     worker; the longest request and the wall time from upload to imported (--big-rows 0
     skips it);
  4. the preview of a 10-row correction file (ten shipped figures, each value + 1) in a store
     of the shipped 72 figures against the same file in a store of ~100,000 (bench/scale.py's
     synthetic national dataset, bulk-loaded): each round previews it --preview-runs times
     in a fresh process per store, A B A B, and prints the round's medians, their ratio, the
     queries and observation rows one preview read (target: within 1.5x); --preview-rounds 0
     skips it; --preview-scale 1M uses bench/scale.py's ~1,000,000-figure store instead
     (3,143 made-up counties besides the national figures; a few minutes to build).

On SQLite by default (temporary files). --postgres postgres://USER@HOST:PORT runs every part
on that server instead, in throwaway databases named bench_import_* (dropped at the end).

Run: .venv/bin/python bench/import_bench.py [--rows N] [--big-rows N] [--rounds N]
     [--preview-rounds N] [--preview-runs N] [--preview-scale 100k|1M] [--postgres URL]
"""

import argparse
import csv
import datetime
import io
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager, redirect_stdout
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--big-rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preview-rounds", type=int, default=5)
    parser.add_argument("--preview-runs", type=int, default=15)
    parser.add_argument("--preview-scale", choices=("100k", "1M"), default="100k")
    parser.add_argument("--postgres", help="a PostgreSQL server URL, for throwaway databases")
    parser.add_argument("--preview-measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.preview_measure:
        return preview_measure(args.preview_runs)

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp, databases(args, tmp) as url:
        os.environ["DATABASE_URL"] = url("bench")
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"  # production, DEBUG off
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        name = str(settings.DATABASES["default"]["NAME"])
        assert name.startswith(tmp) or name.startswith("bench_import_"), "not a temporary db"
        print(f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
        print("Migrating a temporary database...", flush=True)
        call_command("migrate", verbosity=0)
        ratio = import_against_baseline(args, tmp) if args.rows else 0
        if args.big_rows:
            from stats.models import Observation

            empty()
            big = Path(tmp) / "big.csv"
            big.write_bytes(build_file(args.big_rows))
            print(f"Big file: {args.big_rows:,} rows, {big.stat().st_size / 1e6:.1f} MB")
            longest, wall = admin_background(big)
            assert Observation.objects.count() == args.big_rows
            print(
                f"admin, {args.big_rows:,} rows: upload to imported {wall:6.2f} s (background "
                f"worker); longest request {longest:.2f} s (target < 10)"
            )
        if args.preview_rounds:
            preview_at_scale(tmp, url, args)
        return 0 if ratio <= 3 else 1


def empty():
    """Every figure, change and record gone, in three statements: a delete through the ORM
    sends a signal per row (refresh_current and a version bump each)."""
    from django.db import connection

    from stats.models import ImportRecord, Observation, ObservationChange

    with connection.cursor() as cursor:
        for model in (ObservationChange, Observation, ImportRecord):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


def import_against_baseline(args, tmp):
    """Part 1 and 2: the ratio import / raw-ORM baseline, then the import's peak memory."""
    from django.core.management import call_command

    path = Path(tmp) / "synthetic.csv"
    path.write_bytes(build_file(args.rows))
    print(f"Synthetic file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB", flush=True)

    from stats.models import Observation

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
    print(f"peak memory of the import: {peak / 1e6:.1f} MB, {peak / args.rows:,.0f} bytes per row")
    return ratio


@contextmanager
def databases(args, tmp):
    """Yields url(name): a throwaway database's URL, SQLite files in tmp or, with --postgres,
    databases bench_import_PID_NAME on that server (two runs may share it), dropped on the way
    out."""
    if not args.postgres:
        yield lambda name: f"sqlite:///{tmp}/{name}.sqlite3"
        return
    from urllib.parse import urlsplit

    import psycopg

    server = urlsplit(args.postgres)._replace(path="").geturl()  # a database named is not used
    made, prefix = [], f"bench_import_{os.getpid()}"

    def url(name):
        if name not in made:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
                db.execute(f'CREATE DATABASE "{prefix}_{name}"')
            made.append(name)
        return f"{server}/{prefix}_{name}"

    try:
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
            for name in made:
                db.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')


def preview_at_scale(tmp, url, args):
    """A 10-row correction previewed at 72 and at ~100,000 (or ~1,000,000) figures, in
    interleaved rounds."""
    from bench.common import bench_env
    from bench.scale import prepare_database

    rounds, runs = args.preview_rounds, args.preview_runs
    big = {"100k": ("~100,000", "national"), "1M": ("~1,000,000", "county")}[args.preview_scale]
    stores = {"72 figures": "small", f"{big[0]} figures": big[1]}
    envs = {}
    for label, variant in stores.items():
        envs[label] = bench_env(tmp, DATABASE_URL=url(f"preview_{variant}"))
        print(f"Building the store of {label}...", flush=True)
        seconds = prepare_database(envs[label], variant)
        print(f"  built in {seconds:.0f} s", flush=True)
        # Statistics for the planner in every store, as autovacuum would gather them in time
        # (the bulk load analyses only the observation table of the big one).
        code = "import django; django.setup(); from django.db import connection\n"
        code += "connection.cursor().execute('ANALYZE')"
        subprocess.run([sys.executable, "-c", code], env=envs[label], check=True)
    found = {label: [] for label in stores}
    for number in range(1, rounds + 1):
        for label in stores:  # A B, A B, ...: a slow moment of the machine hits both
            command = [sys.executable, __file__, "--preview-measure", "1"]
            command += ["--preview-runs", str(runs)]
            out = subprocess.run(command, env=envs[label], check=True, stdout=subprocess.PIPE)
            found[label].append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
        small, large = (found[label][-1]["ms"] for label in stores)
        print(
            f"preview round {number}: 72 figures {small:.1f} ms, {big[0]} {large:.1f} ms, "
            f"ratio {large / small:.2f}",
            flush=True,
        )
    print()
    ratios = [b["ms"] / a["ms"] for a, b in zip(*found.values(), strict=True)]
    for label, results in found.items():
        times = [r["ms"] for r in results]
        print(
            f"10-row preview, {label} ({results[0]['figures']:,} stored): median of the rounds' "
            f"medians {statistics.median(times):.1f} ms [{min(times):.1f}-{max(times):.1f}], "
            f"{results[0]['queries']} queries, {results[0]['observation_rows']:,} "
            "observation rows read"
        )
    print(
        f"ratio {big[0]} / 72 figures: median {statistics.median(ratios):.2f} "
        f"[{min(ratios):.2f}-{max(ratios):.2f}] over {rounds} rounds (target <= 1.5)"
    )


def preview_measure(runs):
    """In a fresh process on one store: the median ms of `runs` previews of a 10-row
    correction (one warm-up first), the queries of one and the observation rows they read."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.scale import correction_preview
    from stats.models import Observation

    preview = correction_preview(updated=10)

    preview()
    with CaptureQueriesContext(connection) as queries:
        preview()
    read = observation_rows_read(queries.captured_queries)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        preview()
        times.append((time.perf_counter() - started) * 1000)
    figures = Observation.objects.count()
    print(
        json.dumps(
            {
                "ms": statistics.median(times),
                "queries": len(queries),
                "observation_rows": read,
                "figures": figures,
            }
        )
    )


def observation_rows_read(captured):
    """The rows the captured SELECTs of the observation table returned, counted again."""
    from django.db import connection

    table = connection.ops.quote_name("stats_observation")
    total = 0
    with connection.cursor() as cursor:
        for query in captured:
            sql = query["sql"]
            if sql.startswith("SELECT") and f"FROM {table}" in sql:
                cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS counted")
                total += cursor.fetchone()[0]
    return total


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
