"""Queries and median response time of three public pages, uncached and cached.

In a temporary database (migrate + load_initial_data, deleted at the end), under
bench.settings (production settings on plain HTTP, local-memory cache), through the whole
Django stack with the test client. "Uncached" is the first visit after
`invalidate_public_pages()`: what a visitor pays right after a page is published or a figure
changes. "Cached" is every visit after that.

Run: .venv/bin/python bench/pages.py [--runs N]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PAGES, bench_env, prepare, workdir  # noqa: E402


def measure(client, url, runs, before=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, size = [], set(), 0
    for _ in range(runs):
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(captured))
        size = len(response.content)
    return {"queries": max(queries), "median_ms": statistics.median(times), "bytes": size}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="Visits measured per page and mode.")
    args = parser.parse_args()

    with workdir() as tmp:
        env = bench_env(tmp)
        prepare(env)
        os.environ.update(env)
        import django

        django.setup()
        from django.test import Client

        from portal.cache import invalidate_public_pages

        client = Client(HTTP_HOST="127.0.0.1")
        rows = []
        for name, url in PAGES.items():
            measure(client, url, 3, before=invalidate_public_pages)  # warm the code paths
            uncached = measure(client, url, args.runs, before=invalidate_public_pages)
            measure(client, url, 1)
            cached = measure(client, url, args.runs * 5)
            rows.append((name, url, uncached, cached))

    print()
    print(f"Public pages: median of {args.runs} uncached and {args.runs * 5} cached visits")
    header = f"{'page':<22} {'KB':>6} {'queries':>8} {'uncached ms':>12} {'queries':>8}"
    header += f" {'cached ms':>10}"
    print(header)
    print("-" * len(header))
    for name, _url, u, c in rows:
        print(
            f"{name:<22} {u['bytes'] / 1024:>6.1f} {u['queries']:>8} {u['median_ms']:>12.1f} "
            f"{c['queries']:>8} {c['median_ms']:>10.2f}"
        )


if __name__ == "__main__":
    main()
