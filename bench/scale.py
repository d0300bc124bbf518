"""The store, the API, the downloads, pages and staff screens at national scale, beside the
shipped 72 figures.

Databases: a PostgreSQL 15 cluster on a spare port when this runs as root and PostgreSQL is
installed, else SQLite files; thrown away at the end unless BENCH_KEEP_DB is set (1: the cluster
is kept in /var/tmp/portal-bench-pg, a path: there), which keeps each variant's built database
as a template named by the variant and a digest of the migrations, the packs and the
generator, so the next run copies it instead of building it (a change of any of them builds
it again). The variants:
  - "72 figures": migrate and load_initial_data, the shipped content only;
  - "national": the same, plus a synthetic national dataset made up HERE and nowhere else:
    every state and territory but the shipped pack's (whose figures stay the shipped ones, so
    the pages show the same figures) x 20 years x every metric with every category of its
    breakdown, from one made-up edition, a tenth of them restated by a second one (about
    100,000 current figures);
  - "districts" (--scale 100k, unless --skip-districts): the national dataset plus every
    federal judicial district x the last 12 years x every metric (about 200,000);
  - "1M" (--scale 1M, instead of districts): the national dataset plus 3,143 made-up counties
    (kind "county", each under a state) x 20 made-up count metrics x 14 years (2010-2023),
    a tenth restated (about 980,000 current figures).
The figures are loaded through a bulk path: PostgreSQL's COPY (psycopg's cursor.copy) with the
observation table's indexes and constraints dropped first and built once after, then VACUUM
ANALYZE; on SQLite, executemany in batches of 20,000. The build time of each is printed.
Each measure runs in a fresh process on production settings (bench.settings), and the rounds
interleave the databases, so that a slow moment of the machine hits all of them alike:
  - API `/api/observations` (limit 100): first page, first page with the count counted anew
    (just after a data change), the last and middle pages by offset, middle and last by cursor;
  - `/federal-prosecutions/` and the Data page rendered uncached (ms; the Data page's KB);
  - the map's query (one shipped figure for every state), the admin's observation list and a
    search (signed in), and the preview of a 10-row correction file;
  - CSV, JSON and XLSX full downloads of every current figure: the build (as the worker runs
    it: seconds and the process's peak resident memory, MiB), serving the built file, and a
    304 revalidation (ms).
Printed: the median of the rounds' medians, the lowest and highest round, and the ratio to 72
figures (and to national, for the 1M), then issue 26's goals met or missed.

Run: .venv/bin/python bench/scale.py [--scale 100k|1M] [--rounds N] [--runs N]
     [--skip-districts] [--sqlite] [--tiny (a few places, to try the bench itself)]"""

import argparse
import datetime
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import as_of  # noqa: E402
from bench.common import PYTHON, ROOT, bench_env, manage, spare_port, workdir  # noqa: E402

PAGE = "/federal-prosecutions/"
DATA_PAGE = "/data/"
API = "/api/observations"
FORMATS = ("csv", "json", "xlsx")
WORKER_TIMEOUT = 30
YEARS = range(2004, 2024)
DISTRICT_YEARS = range(2012, 2024)


# --- The synthetic dataset (inside the benchmark's throwaway databases only) ----------------

GENERATOR = 2  # bump when the generator changes: kept databases (BENCH_KEEP_DB) are rebuilt
COUNTIES = 3143
COUNTY_METRICS = 20
COUNTY_YEARS = range(2010, 2024)
COPY_COLUMNS = (
    "metric_id",
    "jurisdiction_id",
    "period_start",
    "period_end",
    "breakdown_id",
    "value",
    "source_id",
    "is_current",
    "footnote",
    "footnote_es",
    "updated_at",
)


def _value(unit, rng):
    from decimal import Decimal

    if unit == "percent":
        return Decimal(rng.randint(0, 1000)) / 10
    if unit == "rank":
        return Decimal(rng.randint(1, 56))
    if unit == "months":
        return Decimal(rng.randint(0, 4000)) / 100
    return Decimal(rng.randint(0, 5000))


def made_up_sources(name):
    from stats.models import Source

    return [
        Source.objects.create(
            slug=f"bench-{name}-{year}",
            publisher="Benchmark (made up)",
            title=f"Synthetic {name} figures",
            edition=f"{year} edition",
            edition_year=year,
        )
        for year in (2030, 2031)
    ]


def tiny():
    """--tiny: a few places and years only, to try the benchmark itself in seconds."""
    return os.environ.get("BENCH_TINY") == "1"


def figure_rows(places, metrics, years, sources, rng):
    """Rows for COPY_COLUMNS: every place x metric x year x category (the total and each
    category of the metric's breakdown) from the first edition, a tenth restated by the
    second (the restated first value is kept, not current). Yields (row, is_a_new_figure)."""
    from django.utils import timezone

    first, second = sources
    now = timezone.now()
    if tiny():
        places, years = places[:4], list(years)[-3:]
    for place_id, place_years in places:
        for metric_id, unit, categories in metrics:
            for year in years if place_years is None else place_years:
                start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
                for category in (None, *categories):
                    common = (metric_id, place_id, start, end, category)
                    restated = rng.random() < 0.1
                    yield (*common, _value(unit, rng), first.pk, not restated, "", "", now), True
                    if restated:
                        yield (*common, _value(unit, rng), second.pk, True, "", "", now), False


def national_rows(rng, districts):
    """Every state and territory but the shipped pack's (x 20 years), and the districts."""
    from stats.models import Jurisdiction, Metric

    kinds = [Jurisdiction.Kind.STATE] + ([Jurisdiction.Kind.FEDERAL_DISTRICT] if districts else [])
    places = Jurisdiction.objects.filter(kind__in=kinds, observations__isnull=True)
    places = [
        (p.pk, DISTRICT_YEARS if p.kind == Jurisdiction.Kind.FEDERAL_DISTRICT else None)
        for p in places.order_by("code")
    ]
    metrics = [
        (m.pk, m.unit, [c.pk for c in (m.dimension.categories.all() if m.dimension else ())])
        for m in Metric.objects.select_related("dimension")
        .prefetch_related("dimension__categories")
        .order_by("slug")
    ]
    return figure_rows(places, metrics, YEARS, made_up_sources("national"), rng)


def county_rows(rng):
    """COUNTIES made-up counties (kind "county", each under a state) x COUNTY_METRICS
    made-up count metrics x COUNTY_YEARS, totals only."""
    from stats.models import Jurisdiction, Metric

    states = list(Jurisdiction.objects.filter(kind=Jurisdiction.Kind.STATE).order_by("code"))
    Jurisdiction.objects.bulk_create(
        Jurisdiction(
            code=f"BC{n:05d}",
            name=f"Synthetic county {n}",
            kind="county",
            parent=states[n % len(states)],
        )
        for n in range(1, (40 if tiny() else COUNTIES) + 1)
    )
    counties = Jurisdiction.objects.filter(kind="county").order_by("code")
    metrics = [
        Metric.objects.create(
            slug=f"bench-county-{n:02d}", label=f"Synthetic county figure {n}", unit="count"
        )
        for n in range(1, COUNTY_METRICS + 1)
    ]
    places = [(pk, None) for pk in counties.values_list("pk", flat=True)]
    return figure_rows(
        places, [(m.pk, m.unit, []) for m in metrics], COUNTY_YEARS, made_up_sources("county"), rng
    )


def bulk_load(rows):
    """Insert the rows: PostgreSQL's COPY with the table's indexes and constraints dropped
    first and built once after; elsewhere, or inside a caller's transaction (a test's: its
    deferred constraint checks forbid the ALTER TABLE, and VACUUM runs in none), executemany
    in big batches. Returns the number of current figures."""
    from django.db import connection, transaction

    from stats.models import Observation

    table = Observation._meta.db_table
    current = 0

    def counted():
        nonlocal current
        for row, new in rows:
            current += new
            yield row

    copy_rows = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if not copy_rows:
            marks = ", ".join(["%s"] * len(COPY_COLUMNS))
            sql = f"INSERT INTO {table} ({', '.join(COPY_COLUMNS)}) VALUES ({marks})"
            batch = []
            for row in counted():
                batch.append(row)
                if len(batch) >= 20000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            cursor.executemany(sql, batch)
            return current
        constraints, indexes = drop_indexes(cursor, table)
        with cursor.cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in counted():
                copy.write_row(row)
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    return current


def drop_indexes(cursor, table):
    """Drop the table's constraints (but its primary key) and its other indexes; returns
    their definitions, to build them again after the load."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype <> 'p'",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return constraints, indexes


def synthesise(variant):
    """The made-up figures of a variant, bulk-loaded; returns the number of current figures."""
    rng = random.Random(14)
    current = bulk_load(national_rows(rng, districts=variant == "districts"))
    if variant == "county":
        current += bulk_load(county_rows(rng))
    return current


def prepare_database(env, variant):
    started = time.perf_counter()
    manage(env, "migrate", "--noinput")
    manage(env, "load_initial_data")
    if variant == "small":
        return time.perf_counter() - started
    code = (
        "import django, json, time; django.setup()\n"
        "from bench.scale import synthesise\n"
        "from stats.models import Observation\n"
        "t = time.perf_counter()\n"
        f"n = synthesise({variant!r})\n"
        "print(json.dumps({'current': n, 'rows': Observation.objects.count(),"
        " 'seconds': time.perf_counter() - t}))\n"
    )
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    info = json.loads(out.stdout.decode().strip().splitlines()[-1])
    print(
        f"  {variant}: {info['current']:,} current figures, {info['rows']:,} rows "
        f"(bulk-loaded with indexes built after in {info['seconds']:.0f} s)",
        flush=True,
    )
    return time.perf_counter() - started


# --- One measure, in its own process -------------------------------------------------------


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(runs, call, before=None):
    """The median ms of `runs` calls (each after `before`, untimed), and the last result."""
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        out = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), out


def get_ok(client, path, params=None):
    response = client.get(path, params or {})
    assert response.status_code == 200, (path, response.status_code, response.content[:200])
    return response


def api_measures(client, runs):
    from portal.cache import invalidate_public_pages

    count = get_ok(client, API, {"limit": 100}).json()["count"]
    pages = {
        "api_first": {"limit": 100},
        "api_deep": {"limit": 100, "offset": max(0, count - 100)},
        "api_middle": {"limit": 100, "offset": count // 2},
        "api_cursor_middle": {"limit": 100, "cursor": cursor_at(max(count // 2, 0))},
        "api_cursor_last": {"limit": 100, "cursor": cursor_at(max(count - 101, 0))},
    }
    result = {"count": count}
    for name, params in pages.items():
        result[name] = timed(runs, lambda p=params: get_ok(client, API, p))[0]
    # The first page when the data version has just changed: the count is counted anew.
    first = pages["api_first"]
    result["api_count"] = timed(
        runs, lambda: get_ok(client, API, first), before=invalidate_public_pages
    )[0]
    return result


def page_measures(client, runs):
    from portal.cache import invalidate_public_pages
    from stats.display.batch import FigureStore, Selection
    from stats.models import Observation

    result = {}
    for name, path in (("page", PAGE), ("data_page", DATA_PAGE)):
        get_ok(client, path)
        ms, response = timed(runs, lambda p=path: get_ok(client, p), before=invalidate_public_pages)
        result[name], result[f"{name}_bytes"] = ms, len(response.content)
    # The map's query: one shipped state figure's metric and year, for every state.
    shipped = shipped_figures().filter(jurisdiction__kind="state").first()
    selection = Selection.of(
        [shipped.metric], [], end_year=shipped.period_end.year, every_state=True
    )
    result["map_query"] = timed(runs, lambda: FigureStore([selection]).observations(selection))[0]
    assert Observation.objects.exists()
    return result


def shipped_figures():
    from stats.models import Observation

    rows = Observation.objects.filter(is_current=True).exclude(source__slug__startswith="bench-")
    return rows.select_related("metric").order_by("pk")


def correction_preview(updated=None):
    """A preview (dry run) of a 10-row correction of shipped figures, each value one more, as
    a callable: what the import bench and the staff measures time."""
    from stats.exchange import export_dataset, read_upload, run_import

    rows = list(shipped_figures().filter(numerator__isnull=True)[:10])
    for row in rows:
        row.value += 1  # a correction of each, not saved here
    content = export_dataset(rows, "csv")

    def preview():
        outcome = run_import(read_upload("corrections.csv", content), dry_run=True)
        assert outcome.ok, outcome.errors[:3]
        assert updated is None or outcome.counts["updated"] == updated, outcome.counts
        return outcome

    return preview


def staff_measures(client, runs):
    """The admin's observation list and a search, signed in; a 10-row correction previewed."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from stats.models import Observation

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    client.force_login(user)
    listing = reverse(Observation.snippet_viewset.get_url_name("list"))
    result = {"admin_list": timed(runs, lambda: get_ok(client, listing))[0]}
    result["admin_search"] = timed(
        runs, lambda: get_ok(client, listing, {"q": "Synthetic county 12"})
    )[0]
    client.logout()
    result["preview_10"] = timed(runs, correction_preview())[0]
    return result


def download_measures(fmt, runs):
    from stats.models import DataVersion, DownloadFile
    from stats.opendata import files

    # The build, as the worker runs it (the task's own function, in this process), every
    # round: the file an earlier round built for this data version is forgotten first.
    DownloadFile.objects.filter(scope="all", fmt=fmt, history=False).delete()
    before = rss_mib()
    started = time.perf_counter()
    row = files.request_build("all", fmt, False, DataVersion.current())
    files.build(row.pk)
    built = time.perf_counter() - started
    peak = rss_mib()
    # The national file (the bench's site is a state site, whose file holds its state).
    started = time.perf_counter()
    response = national(fmt)
    assert response.status_code == 200, response.status_code
    size = sum(len(piece) for piece in response)
    served = time.perf_counter() - started
    assert size == int(response["Content-Length"])
    not_modified = timed(runs, lambda: national(fmt, HTTP_IF_NONE_MATCH=response["ETag"]))
    assert not_modified[1].status_code == 304
    if fmt == "csv":  # the data package of the same files, at this size
        errors = validate_package()
        if errors:
            raise SystemExit("frictionless validate: " + "; ".join(errors))
    return {
        "seconds": built,
        "served_seconds": served,
        "not_modified_ms": not_modified[0],
        "peak_mib": peak,
        "start_mib": before,
        "bytes": size,
    }


def validate_package(scope="all"):
    """`frictionless validate` on the scope's data package as the worker builds it (the full
    CSVs, the metric and place tables, the descriptors), and on its XLSX and JSON downloads
    against the package's Table Schema. Returns the first errors found ([] when valid)."""
    import frictionless
    from frictionless.resources import TableResource

    from stats.models import DataVersion, DownloadFile
    from stats.opendata import files
    from stats.opendata.package import figure_schema
    from stats.opendata.views import PACKAGE_NAMES

    wanted = {**PACKAGE_NAMES, "figures.xlsx": ("xlsx", False), "figures.json": ("json", False)}
    found = []
    with tempfile_folder() as folder:
        for name, (fmt, history) in wanted.items():
            row = files.request_build(scope, fmt, history, DataVersion.current())
            if row.status != DownloadFile.Status.READY:
                files.build(row.pk)
                row.refresh_from_db()
            with files.storage().open(row.name, "rb") as built, open(folder / name, "wb") as out:
                shutil.copyfileobj(built, out)
        reports = [frictionless.validate(str(folder / "datapackage.json"))]
        # The XLSX and JSON files are checked alone: without the package's foreign keys.
        schema = frictionless.Schema.from_descriptor({**figure_schema(), "foreignKeys": []})
        for fmt in ("xlsx", "json"):
            # A spreadsheet leaves empty cells out: a short row there is no missing cell.
            skip = ["missing-cell"] if fmt == "xlsx" else []
            resource = TableResource(
                path=f"figures.{fmt}", basepath=str(folder), format=fmt, schema=schema
            )
            checks = frictionless.Checklist(skip_errors=skip)
            reports.append(frictionless.validate(resource, checklist=checks))
    for report in reports:
        found += [f"{t.name}: {e.type}: {e.message}" for t in report.tasks for e in t.errors]
    return found[:10]


@contextmanager
def tempfile_folder():
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def measure(kind, runs):
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    if kind == "requests":
        result = {**api_measures(client, runs), **page_measures(client, runs)}
        result.update(staff_measures(client, runs))
        result.update(as_of.measures(client, runs))
    else:
        result = {**download_measures(kind, runs), **as_of.download_measures(kind, runs)}
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
        capture_output=True,
    )
    if out.returncode:
        sys.stderr.write(out.stderr.decode()[-3000:])
        raise SystemExit(f"The {kind} measure failed (exit {out.returncode}).")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


# --- The run -------------------------------------------------------------------------------


def postgres_available():
    return os.geteuid() == 0 and Path("/usr/lib/postgresql/15/bin/initdb").exists()


NAMES = {"small": "72 figures", "national": "national", "districts": "districts", "county": "1M"}


def variants_for(args):
    if args.scale == "1M":
        return ["small", "national", "county"]
    return ["small", "national"] + ([] if args.skip_districts else ["districts"])


def kept_folder():
    """BENCH_KEEP_DB: 1 keeps the cluster in /var/tmp/portal-bench-pg, a path keeps it there."""
    value = os.environ.get("BENCH_KEEP_DB", "")
    if value in ("", "0"):
        return None
    return Path("/var/tmp/portal-bench-pg" if value == "1" else value)


def signature(variant):
    """What a kept database was built from: the migrations, the packs and the generator."""
    digest = hashlib.sha256(f"{GENERATOR}:{variant}:{tiny()}".encode())
    for path in sorted([*ROOT.glob("*/migrations/0*.py"), *ROOT.glob("packs/*/*")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return f"tpl_{variant}_{digest.hexdigest()[:10]}"


@contextmanager
def cluster(folder):
    """A PostgreSQL 15 cluster in folder (made there unless one is already): yields (host, port)."""
    from bench.scale_demo import as_postgres, pg_bin

    data, sockets = folder / "pg", folder / "pg-run"
    quiet = {"stdout": subprocess.DEVNULL}
    if not (data / "PG_VERSION").exists():
        for path in (folder, data, sockets):
            path.mkdir(exist_ok=True)
            shutil.chown(path, "postgres")
        initdb = f"{pg_bin('initdb')} -D {data} -U postgres -A trust -E UTF8 --no-sync".split()
        as_postgres(*initdb, **quiet)
    port = spare_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off"
    log = sockets / "postgres.log"
    as_postgres(pg_bin("pg_ctl"), "-D", data, "-l", log, "-o", options, "-w", "start", **quiet)
    try:
        yield "127.0.0.1", str(port)
    finally:
        as_postgres(pg_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop", **quiet)


def psql(host, port, sql):
    from bench.scale_demo import as_postgres, pg_bin

    command = [pg_bin("psql"), "-h", host, "-p", port, "-d", "postgres", "-Atc", sql]
    return as_postgres(*command, capture_output=True, text=True).stdout.split()


def postgres_databases(host, port, variants, env_for, keep):
    """{variant: DATABASE_URL}, each prepared; kept templates are copied, not built again."""
    urls, built = {}, {}
    existing = set(psql(host, port, "SELECT datname FROM pg_database"))
    for variant in variants:
        name = signature(variant) if keep else f"bench_{variant}"
        url = f"postgres://postgres@{host}:{port}/{{}}"
        if name not in existing:
            for stale in (d for d in existing if d.startswith(f"tpl_{variant}_")):
                psql(host, port, f'DROP DATABASE "{stale}"')
            psql(host, port, f'CREATE DATABASE "{name}"')
            print(f"Building {NAMES[variant]}...", flush=True)
            seconds = prepare_database(env_for(url.format(name)), variant)
            built[variant] = seconds
            print(f"  built in {seconds:.0f} s", flush=True)
        else:
            print(f"{NAMES[variant]}: kept database {name}", flush=True)
        if keep:
            psql(host, port, f'DROP DATABASE IF EXISTS "bench_{variant}"')
            psql(host, port, f'CREATE DATABASE "bench_{variant}" TEMPLATE "{name}"')
        urls[variant] = url.format(f"bench_{variant}")
    return urls, built


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("100k", "1M"), default="100k")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15, help="Requests per API/page measure.")
    parser.add_argument("--skip-districts", action="store_true")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if PostgreSQL is here.")
    parser.add_argument("--tiny", action="store_true", help="A few places: to try the bench.")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure, args.runs)

    variants = variants_for(args)
    if args.tiny:
        os.environ["BENCH_TINY"] = "1"
    with workdir() as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        use_pg = postgres_available() and not args.sqlite

        def env_for(database, variant="small"):
            return bench_env(
                tmp,
                DATABASE_URL=database,
                PORTAL_CACHE_DIR=str(tmp / f"cache-{variant}"),
                PORTAL_API_RATE="1000000/min",
                PORTAL_DOWNLOAD_RATE="1000000/min",
                PORTAL_DOWNLOADS_ROOT=str(tmp / f"downloads-{variant}"),
            )

        print(f"Database: {'PostgreSQL 15' if use_pg else 'SQLite'}", flush=True)
        manage(env_for(f"sqlite:///{tmp}/static.sqlite3"), "collectstatic", "--noinput")
        if use_pg:
            keep = kept_folder()
            folder = keep or Path(stack.enter_context(workdir_on_disk()))
            host, port = stack.enter_context(cluster(folder))
            urls, built = postgres_databases(host, port, variants, env_for, keep is not None)
        else:
            urls = {v: f"sqlite:///{tmp}/{v}.sqlite3" for v in variants}
            built = {v: prepare_database(env_for(urls[v]), v) for v in variants}
        envs = {v: env_for(urls[v], v) for v in variants}

        results = {v: {"requests": [], **{f: [] for f in FORMATS}} for v in variants}
        for round_number in range(args.rounds):
            print(f"Round {round_number + 1} of {args.rounds}...", flush=True)
            for kind in ("requests", *FORMATS):
                for variant in variants:
                    results[variant][kind].append(run_measure(envs[variant], kind, args.runs))
        report(results, variants, args, use_pg, built)


def workdir_on_disk():
    import tempfile

    folder = tempfile.TemporaryDirectory(prefix="portal-bench-pg-")
    shutil.chown(folder.name, "postgres")
    return folder


REQUEST_ROWS = (
    ("api_first", "API first page, ms"),
    ("api_count", "API first page, count anew, ms"),
    ("api_deep", "API last page (offset), ms"),
    ("api_middle", "API middle page (offset), ms"),
    ("api_cursor_middle", "API middle page (cursor), ms"),
    ("api_cursor_last", "API last page (cursor), ms"),
    ("page", f"page {PAGE} uncached, ms"),
    ("data_page", f"Data page {DATA_PAGE} uncached, ms"),
    ("data_page_bytes", "Data page, KB"),
    ("map_query", "map's query (every state), ms"),
    ("admin_list", "admin observation list, ms"),
    ("admin_search", "admin observation search, ms"),
    ("preview_10", "10-row correction preview, ms"),
)
DOWNLOAD_ROWS = (
    ("seconds", "build (worker), s"),
    ("served_seconds", "served from storage, s"),
    ("not_modified_ms", "304, ms"),
    ("peak_mib", "build peak memory, MiB"),
    ("bytes", "size, MB"),
)


def report(results, variants, args, use_pg, built):
    def values(variant, kind, field):
        return [r[field] for r in results[variant][kind]]

    def med(variant, kind, field):
        return statistics.median(values(variant, kind, field))

    print()
    print(
        f"National scale ({'PostgreSQL 15' if use_pg else 'SQLite'}, production settings, "
        f"{args.rounds} interleaved rounds of {args.runs} requests; median of the rounds' "
        "medians [lowest-highest round], ratio to 72 figures / to national)"
    )
    header = f"{'measure':<36}" + "".join(f"{NAMES[v]:>32}" for v in variants)
    print(header)
    print("-" * len(header))
    count = {v: results[v]["requests"][0]["count"] for v in variants}
    print(f"{'current figures':<36}" + "".join(f"{count[v]:>32,}" for v in variants))
    if built:
        cells = "".join(f"{built[v]:>31.0f}s" if v in built else f"{'kept':>32}" for v in variants)
        print(f"{'database built in':<36}{cells}")
    rows = [("requests", field, label) for field, label in REQUEST_ROWS]
    rows += [(f, field, f"{f.upper()} {label}") for f in FORMATS for field, label in DOWNLOAD_ROWS]
    for kind, field, label in rows:
        cells = ""
        for v in variants:
            found = values(v, kind, field)
            scale = {"bytes": 1e6, "data_page_bytes": 1e3}.get(field, 1)
            low, high = min(found) / scale, max(found) / scale
            cell = f"{med(v, kind, field) / scale:.1f} [{low:.1f}-{high:.1f}]"
            ratios = [med(v, kind, field) / med(b, kind, field) for b in ("small", "national")]
            if v == "national":
                cell += f" {ratios[0]:.2f}x"
            elif v != "small":
                cell += f" {ratios[0]:.2f}x/{ratios[1]:.2f}x"
            cells += f"{cell:>32}"
        print(f"{label:<36}{cells}")
    print()
    for label, ok in goals(med, variants):
        print(f"  {'met' if ok else 'MISSED':<7}{label}")
    as_of.report(results, variants, NAMES, FORMATS)


def goals(med, variants):
    big, base = variants[-1], "small"

    def within(field, factor, kind="requests", against="small"):
        return med(big, kind, field) <= factor * med(against, kind, field)

    api = ("api_first", "api_count", "api_deep", "api_middle")
    return [
        ("10-row preview <= 1.5x", within("preview_10", 1.5)),
        ("API pages by offset <= 2x", all(within(f, 2) for f in api)),
        (
            "API cursor pages <= 2x the first page at 72",
            max(med(big, "requests", f) for f in ("api_cursor_middle", "api_cursor_last"))
            <= 2 * med(base, "requests", "api_first"),
        ),
        ("admin list and search <= 2x", within("admin_list", 2) and within("admin_search", 2)),
        (
            "Data page <= 1.2x, time and bytes",
            within("data_page", 1.2) and within("data_page_bytes", 1.2),
        ),
        ("page render <= 1.2x", within("page", 1.2)),
        (
            f"every {NAMES[big]} download served < {WORKER_TIMEOUT} s",
            all(med(big, f, "served_seconds") < WORKER_TIMEOUT for f in FORMATS),
        ),
        (
            "every 304 < 50 ms",
            all(med(v, f, "not_modified_ms") < 50 for v in variants for f in FORMATS),
        ),
        (
            "download build peak <= 150 MiB",
            all(med(v, f, "peak_mib") <= 150 for v in variants for f in FORMATS),
        ),
    ]


if __name__ == "__main__":
    main()
