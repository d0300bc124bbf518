"""The store, the API, the downloads and a page at national scale, beside the shipped 72 figures.

Throwaway databases (a PostgreSQL 15 cluster on a spare port when this runs as root and
PostgreSQL is installed, else SQLite files), all deleted at the end:
  - "72 figures": migrate and load_initial_data, the shipped content only;
  - "national": the same, plus a synthetic national dataset made up HERE and nowhere else:
    every state and territory but the shipped pack's (whose figures stay the shipped ones, so
    the pages show the same figures) x 20 years x every metric with every category of its breakdown,
    from one made-up edition, a tenth of them restated by a second one (about 100,000
    current figures);
  - "districts" (unless --skip-districts): the national dataset plus every federal judicial
    district x the last 12 years x every metric (about 200,000 current figures).
Each measure runs in a fresh process on production settings (bench.settings), and the rounds
interleave the databases, so that a slow moment of the machine hits all of them alike:
  - API: `/api/observations` first page (limit 100) and the deepest page, median ms;
  - the heaviest page (`/federal-prosecutions/`) rendered uncached, median ms;
  - API middle pages by offset and by cursor, and the last page by cursor;
  - CSV, JSON and XLSX full downloads of every current figure: the build (as the worker runs
    it: seconds and the process's peak resident memory, MiB), serving the built file, and a
    304 revalidation (ms).
Goals: API at most 2x its 72-figure time, downloads at most 150 MiB, page at most 1.2x, every
download of the districts variant inside the worker timeout (30 s).

Run: .venv/bin/python bench/scale.py [--rounds N] [--skip-districts] [--sqlite]
"""

import argparse
import datetime
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, bench_env, manage, workdir  # noqa: E402

PAGE = "/federal-prosecutions/"
API = "/api/observations"
FORMATS = ("csv", "json", "xlsx")
WORKER_TIMEOUT = 30
YEARS = range(2004, 2024)
DISTRICT_YEARS = range(2012, 2024)


# --- The synthetic dataset (inside the benchmark's throwaway database only) ----------------


def _value(unit, rng):
    from decimal import Decimal

    if unit == "percent":
        return Decimal(rng.randint(0, 1000)) / 10
    if unit == "rank":
        return Decimal(rng.randint(1, 56))
    if unit == "months":
        return Decimal(rng.randint(0, 4000)) / 100
    return Decimal(rng.randint(0, 5000))


def synthesise(districts):
    """Made-up figures for every state and territory (and the districts): bulk inserts."""
    from stats.models import Jurisdiction, Metric, Observation, Source

    has_flag = any(f.name == "is_current" for f in Observation._meta.get_fields())
    rng = random.Random(14)
    first, second = (
        Source.objects.create(
            slug=f"bench-national-{year}",
            publisher="Benchmark (made up)",
            title="Synthetic national figures",
            edition=f"{year} edition",
            edition_year=year,
        )
        for year in (2030, 2031)
    )
    kinds = [Jurisdiction.Kind.STATE] + ([Jurisdiction.Kind.FEDERAL_DISTRICT] if districts else [])
    places = list(Jurisdiction.objects.filter(kind__in=kinds).filter(observations__isnull=True))
    metrics = list(
        Metric.objects.select_related("dimension").prefetch_related("dimension__categories")
    )
    batch, current = [], 0

    def flush():
        Observation.objects.bulk_create(batch, batch_size=5000)
        batch.clear()

    for place in places:
        years = DISTRICT_YEARS if place.kind == Jurisdiction.Kind.FEDERAL_DISTRICT else YEARS
        for metric in metrics:
            categories = [None, *(metric.dimension.categories.all() if metric.dimension else ())]
            for year in years:
                for category in categories:
                    restated = rng.random() < 0.1
                    common = dict(
                        metric=metric,
                        jurisdiction=place,
                        period_start=datetime.date(year, 1, 1),
                        period_end=datetime.date(year, 12, 31),
                        breakdown=category,
                    )
                    for source, is_current in ((first, not restated), (second, True)):
                        if source is second and not restated:
                            continue
                        row = Observation(value=_value(metric.unit, rng), source=source, **common)
                        if has_flag:
                            row.is_current = is_current
                        batch.append(row)
                    current += 1
                    if len(batch) >= 20000:
                        flush()
    flush()
    return current


def prepare_database(env, variant):
    manage(env, "migrate", "--noinput")
    manage(env, "load_initial_data")
    if variant == "small":
        return
    code = (
        "import django, json, time; django.setup()\n"
        "from bench.scale import synthesise\n"
        "from stats.models import Observation\n"
        "t = time.perf_counter()\n"
        f"n = synthesise({variant == 'districts'})\n"
        "print(json.dumps({'current': n, 'rows': Observation.objects.count(),"
        " 'seconds': time.perf_counter() - t}))\n"
    )
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    info = json.loads(out.stdout.decode().strip().splitlines()[-1])
    print(
        f"  {variant}: {info['current']:,} current figures, {info['rows']:,} rows "
        f"(inserted in {info['seconds']:.0f} s)",
        flush=True,
    )


# --- One measure, in its own process -------------------------------------------------------


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind, runs):
    import django

    django.setup()
    from django.test import Client

    from portal.cache import invalidate_public_pages

    client = Client(HTTP_HOST="127.0.0.1")
    result = {}
    if kind == "requests":
        first = client.get(API, {"limit": 100})
        assert first.status_code == 200, first.content[:200]
        count = first.json()["count"]
        deep = {"limit": 100, "offset": max(0, count - 100)}
        middle = {"limit": 100, "offset": count // 2}
        measures = [("api_first", {"limit": 100}), ("api_deep", deep), ("api_middle", middle)]
        for name, at in (("api_cursor_middle", count // 2), ("api_cursor_last", count - 101)):
            measures.append((name, {"limit": 100, "cursor": cursor_at(max(at, 0))}))
        for name, params in measures:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(API, params)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.content[:200]
            result[name] = statistics.median(times)
        times = []
        client.get(PAGE)
        for _ in range(runs):
            invalidate_public_pages()
            started = time.perf_counter()
            response = client.get(PAGE)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        result["page"] = statistics.median(times)
        result["count"] = count
    else:
        from stats.models import DataVersion
        from stats.opendata import files

        # The build, as the worker runs it (the task's own function, in this process).
        before = rss_mib()
        started = time.perf_counter()
        row = files.request_build("all", kind, False, DataVersion.current())
        files.build(row.pk)
        built = time.perf_counter() - started
        peak = rss_mib()
        # The national file (the bench's site is a state site, whose file holds its state).
        started = time.perf_counter()
        response = national(kind)
        assert response.status_code == 200, response.status_code
        size = sum(len(piece) for piece in response)
        served = time.perf_counter() - started
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            again = national(kind, HTTP_IF_NONE_MATCH=response["ETag"])
            times.append((time.perf_counter() - started) * 1000)
            assert again.status_code == 304
        assert size == int(response["Content-Length"])
        result = {
            "seconds": built,
            "served_seconds": served,
            "not_modified_ms": statistics.median(times),
            "peak_mib": peak,
            "start_mib": before,
            "bytes": size,
        }
    print(json.dumps(result))


def national(fmt, **headers):
    """The national site's full download, through the view a national site serves."""
    from django.test import RequestFactory

    from stats.opendata.views import data_download

    request = RequestFactory().get(f"/data/download/{fmt}/", HTTP_HOST="127.0.0.1", **headers)
    return data_download(request, fmt, scope="all")


def cursor_at(offset):
    """The API's cursor after the current figure at this offset (found once, not timed)."""
    from stats.models import Observation, ObservationQuerySet
    from stats.opendata.api import encode_cursor

    rows = Observation.objects.filter(is_current=True).order_by(*ObservationQuerySet.KEY, "id")
    pk = rows.values_list("pk", flat=True)[offset]
    return encode_cursor(Observation.objects.get(pk=pk))


def run_measure(env, kind, runs):
    out = subprocess.run(
        [PYTHON, __file__, "--measure", kind, "--runs", str(runs)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


# --- The run -------------------------------------------------------------------------------


def postgres_available():
    return os.geteuid() == 0 and Path("/usr/lib/postgresql/15/bin/initdb").exists()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15, help="Requests per API/page measure.")
    parser.add_argument("--skip-districts", action="store_true")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if PostgreSQL is here.")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure, args.runs)

    variants = ["small", "national"] + ([] if args.skip_districts else ["districts"])
    names = {"small": "72 figures", "national": "national", "districts": "districts"}
    with workdir() as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        use_pg = postgres_available() and not args.sqlite
        envs = {}
        if use_pg:
            from bench.scale_demo import as_postgres, pg_bin, postgres

            # The cluster's files go to disk, not to /dev/shm.
            pg_tmp = Path(stack.enter_context(workdir_on_disk()))
            url = stack.enter_context(postgres(pg_tmp))
            host_port = url.rsplit("/", 1)[0].split("@", 1)[1]
            host, port = host_port.split(":")
        for variant in variants:
            if use_pg:
                as_postgres(pg_bin("createdb"), "-h", host, "-p", port, f"bench_{variant}")
                database = f"postgres://postgres@{host}:{port}/bench_{variant}"
            else:
                database = f"sqlite:///{tmp}/{variant}.sqlite3"
            envs[variant] = bench_env(
                tmp,
                DATABASE_URL=database,
                PORTAL_CACHE_DIR=str(tmp / f"cache-{variant}"),
                PORTAL_API_RATE="1000000/min",
                PORTAL_DOWNLOAD_RATE="1000000/min",
                PORTAL_DOWNLOADS_ROOT=str(tmp / f"downloads-{variant}"),
            )
        print(f"Database: {'PostgreSQL 15' if use_pg else 'SQLite'}", flush=True)
        manage(envs["small"], "collectstatic", "--noinput")  # one static folder for all
        for variant in variants:
            started = time.perf_counter()
            print(f"Preparing {names[variant]}...", flush=True)
            prepare_database(envs[variant], variant)
            print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)

        results = {v: {"requests": [], **{f: [] for f in FORMATS}} for v in variants}
        for round_number in range(args.rounds):
            print(f"Round {round_number + 1} of {args.rounds}...", flush=True)
            for kind in ("requests", *FORMATS):
                for variant in variants:
                    results[variant][kind].append(run_measure(envs[variant], kind, args.runs))
        report(results, variants, names, args, use_pg)


def workdir_on_disk():
    import tempfile

    folder = tempfile.TemporaryDirectory(prefix="portal-bench-pg-")
    shutil.chown(folder.name, "postgres")
    return folder


def report(results, variants, names, args, use_pg):
    def med(variant, kind, field):
        return statistics.median(r[field] for r in results[variant][kind])

    def peak(variant, kind):
        return max(r["peak_mib"] for r in results[variant][kind])

    base = "small"
    print()
    print(
        f"National scale ({'PostgreSQL 15' if use_pg else 'SQLite'}, production settings, "
        f"{args.rounds} interleaved rounds; medians of {args.runs} requests per round)"
    )
    header = f"{'measure':<34}" + "".join(f"{names[v]:>16}" for v in variants)
    print(header)
    print("-" * len(header))
    count = {v: results[v]["requests"][0]["count"] for v in variants}
    print(f"{'current figures':<34}" + "".join(f"{count[v]:>16,}" for v in variants))
    for field, label in (
        ("api_first", "API first page, ms"),
        ("api_deep", "API deepest page, ms"),
        ("api_middle", "API middle page (offset), ms"),
        ("api_cursor_middle", "API middle page (cursor), ms"),
        ("api_cursor_last", "API last page (cursor), ms"),
        ("page", f"page {PAGE} uncached, ms"),
    ):
        cells = ""
        for v in variants:
            value = med(v, "requests", field)
            ratio = value / med(base, "requests", field)
            cells += f"{value:>9.1f} ({ratio:3.1f}x)" if v != base else f"{value:>16.1f}"
        print(f"{label:<34}{cells}")
    for fmt in FORMATS:
        cells = "".join(f"{med(v, fmt, 'seconds'):>16.2f}" for v in variants)
        print(f"{fmt.upper() + ' build (worker), s':<34}{cells}")
        cells = "".join(f"{med(v, fmt, 'served_seconds'):>16.2f}" for v in variants)
        print(f"{fmt.upper() + ' served from storage, s':<34}{cells}")
        cells = "".join(f"{med(v, fmt, 'not_modified_ms'):>16.1f}" for v in variants)
        print(f"{fmt.upper() + ' 304, ms':<34}{cells}")
        cells = "".join(f"{peak(v, fmt):>16.0f}" for v in variants)
        print(f"{fmt.upper() + ' peak memory, MiB':<34}{cells}")
        cells = "".join(f"{results[v][fmt][0]['bytes'] / 1e6:>16.1f}" for v in variants)
        print(f"{fmt.upper() + ' size, MB':<34}{cells}")
    print()
    big = variants[-1]
    goals = [
        (
            "API first page <= 2x",
            med(big, "requests", "api_first") <= 2 * med(base, "requests", "api_first"),
        ),
        (
            "API deepest page <= 2x",
            med(big, "requests", "api_deep") <= 2 * med(base, "requests", "api_deep"),
        ),
        (
            "page render <= 1.2x",
            med(big, "requests", "page") <= 1.2 * med(base, "requests", "page"),
        ),
        ("download peak <= 150 MiB", all(peak(v, f) <= 150 for v in variants for f in FORMATS)),
        (
            f"every {names[big]} download served < {WORKER_TIMEOUT} s",
            all(
                max(r["served_seconds"] for r in results[big][f]) < WORKER_TIMEOUT for f in FORMATS
            ),
        ),
        (
            "API cursor pages <= 2x the first page at 72",
            max(med(big, "requests", n) for n in ("api_cursor_middle", "api_cursor_last"))
            <= 2 * med(base, "requests", "api_first"),
        ),
    ]
    for label, ok in goals:
        print(f"  {'met' if ok else 'MISSED':<7}{label}")


if __name__ == "__main__":
    main()
