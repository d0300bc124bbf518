"""`as_of=` at scale (issue 21): an API page and a full download of the figures as they stood
before a 10-row correction, beside the same page and download now, on the same database.

Called from bench/scale.py: `measures` in the requests measure, `download_measures` in each
format's, `report` after its table. The correction (10 of the shipped figures, each plus 1)
is imported once per database, through the importer, so the history has steps after the
moment asked for; the moment is just before it."""

import statistics
import time

CORRECTION = "bench-as-of-correction.csv"
API = "/api/observations"


def ensure_history():
    """The moment before the bench's correction, importing it first if it is not there."""
    from datetime import timedelta

    from stats.exchange import export_dataset, read_upload, run_import
    from stats.models import ImportRecord, Observation, ObservationChange

    record = ImportRecord.objects.filter(file_name=CORRECTION, status="imported").first()
    if record is None:
        rows = list(
            Observation.objects.filter(is_current=True, numerator__isnull=True)
            .exclude(source__slug__startswith="bench-")
            .order_by("pk")[:10]
        )
        for row in rows:
            row.value += 1
        content = export_dataset(rows, "csv")
        outcome = run_import(read_upload(CORRECTION, content), dry_run=False)
        assert outcome.imported, outcome.errors[:3]
        record = outcome.record
    first = ObservationChange.objects.filter(import_record=record).order_by("at").first()
    return first.at - timedelta(milliseconds=1)


def _timed(runs, call):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measures(client, runs):
    """API pages now and as of the moment before the correction (ms), first, middle, last."""
    from stats.store.history import moment_text

    at = moment_text(ensure_history())

    def get(params):
        response = client.get(API, params)
        assert response.status_code == 200, (params, response.content[:200])
        return response.json()

    count = get({"limit": 100})["count"]
    assert get({"limit": 1, "as_of": at})["count"] == count  # a correction: as many figures
    result = {}
    for name, offset in (("first", 0), ("middle", count // 2), ("last", max(count - 100, 0))):
        now = {"limit": 100, "offset": offset}
        result[f"now_api_{name}"] = _timed(runs, lambda p=now: get(p))
        then = {**now, "as_of": at}
        result[f"as_of_api_{name}"] = _timed(runs, lambda p=then: get(p))
    return result


def download_measures(fmt, runs):
    """The full file as of the moment before the correction: built (s), served (s), 304 (ms)."""
    from django.test import RequestFactory

    from stats.models import DataVersion, DownloadFile
    from stats.opendata import files
    from stats.opendata.views import data_download
    from stats.store.history import moment_text, settled_moment

    moment = ensure_history()
    DownloadFile.objects.filter(fmt=fmt, as_of__isnull=False).delete()
    started = time.perf_counter()
    row = files.request_build("all", fmt, False, DataVersion.current(), settled_moment(moment))
    files.build(row.pk)
    built = time.perf_counter() - started

    def national(**headers):
        request = RequestFactory().get(
            f"/data/download/{fmt}/",
            {"as_of": moment_text(moment)},
            HTTP_HOST="127.0.0.1",
            **headers,
        )
        return data_download(request, fmt, scope="all")

    started = time.perf_counter()
    response = national()
    assert response.status_code == 200, response.status_code
    size = sum(len(piece) for piece in response)
    served = time.perf_counter() - started
    assert size == int(response["Content-Length"])
    etag = response["ETag"]
    not_modified = _timed(runs, lambda: national(HTTP_IF_NONE_MATCH=etag))
    return {"as_of_seconds": built, "as_of_served_seconds": served, "as_of_304_ms": not_modified}


API_ROWS = (("first", "first page"), ("middle", "middle page"), ("last", "last page"))
FILE_ROWS = (
    ("seconds", "as_of_seconds", "build (worker), s"),
    ("served_seconds", "as_of_served_seconds", "served from storage, s"),
    ("not_modified_ms", "as_of_304_ms", "304, ms"),
)


def report(results, variants, names, formats):
    """The as_of rows: now, as of, their ratio (goal: as of <= 2x now at the largest)."""

    def med(variant, kind, field):
        return statistics.median(r[field] for r in results[variant][kind])

    print()
    print("as_of (issue 21): now -> as of the moment before a 10-row correction, and the ratio")
    rows = [
        ("requests", f"now_api_{f}", f"as_of_api_{f}", f"API {label}, ms") for f, label in API_ROWS
    ]
    rows += [
        (f, now, then, f"{f.upper()} {label}") for f in formats for now, then, label in FILE_ROWS
    ]
    ratios = []
    for kind, now, then, label in rows:
        cells = ""
        for v in variants:
            a, b = med(v, kind, now), med(v, kind, then)
            cells += f"{f'{a:.1f} -> {b:.1f} {b / a:.2f}x':>32}"
            if v == variants[-1] and "304" not in label:
                ratios.append(b / a)
        print(f"{label:<36}{cells}")
    verdict = "met" if max(ratios) <= 2 else "MISSED"
    print(f"  {verdict:<7}as_of API pages and downloads <= 2x now at {names[variants[-1]]}")
