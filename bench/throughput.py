"""Requests per second of the heaviest public page and of a static file of the same size.

gunicorn with two workers on 127.0.0.1 (a spare port), bench.settings, a temporary database
with the shipped content (deleted at the end). The heaviest page is the slowest to render of
the pages in the sitemap, by the median of many visits taken in turns (every page once per
round), so that a burst of noise cannot decide; pages within 5% of the slowest are decided by
their size in bytes, which does not vary. A bounded load (wrk when installed, else a Python
loop with a fixed request count and a time cap) runs against:
  1. the page with the page cache taken out (every visit renders);
  2. the page with the page cache on (the normal configuration);
  3. a static file of the page's bytes, served by WhiteNoise in the same server.
2 and 3 run in interleaved rounds (page, file, page, file...), plain and with
`Accept-Encoding: gzip` (the static file then has its .gz beside it, as collectstatic makes).
Prints the rates (median of the rounds) and the ratio cached page / static file (target: 0.9
or more), the median of the rounds' own ratios.

Run: .venv/bin/python bench/throughput.py [--seconds S] [--rounds R] [--connections C ...]
(default: 8 and 64 connections)
"""

import argparse
import gzip
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env, gunicorn, prepare, spare_port, workdir  # noqa: E402

STATIC_NAME = "bench/same-size.html"


def fetch(url):
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    return body, time.perf_counter() - started


def public_pages(base):
    sitemap = fetch(f"{base}/sitemap.xml")[0].decode()
    paths = [re.sub(r"^https?://[^/]+", "", loc) for loc in re.findall(r"<loc>([^<]+)", sitemap)]
    return paths or ["/"]


def heaviest(base, paths, rounds=15):
    """The path with the longest median response time, every visit rendered (no page cache).

    Every page is visited once per round, so slow moments of the machine fall on all pages
    alike; among the pages within 5% of the slowest median, the largest in bytes is chosen."""
    samples = {path: [] for path in paths}
    sizes = {path: len(fetch(base + path)[0]) for path in paths}  # and a first, warming visit
    for _ in range(rounds):
        for path in paths:
            samples[path].append(fetch(base + path)[1])
    timings = {path: statistics.median(times) for path, times in samples.items()}
    slowest = max(timings.values())
    close = [path for path in paths if timings[path] >= 0.95 * slowest]
    return max(close, key=sizes.get), timings


def load(url, seconds, connections, zipped=False):
    """Requests per second under a bounded load."""
    if shutil.which("wrk"):
        header = ["-H", "Accept-Encoding: gzip"] if zipped else []
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", *header, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "Non-2xx" in out or "Socket errors" in out:
            raise SystemExit(f"errors under load at {url}:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return python_load(url, seconds, connections, zipped)


def python_load(url, seconds, connections, zipped=False, requests=20_000):
    """Fallback without wrk: `connections` threads, at most `requests` in at most `seconds`."""
    headers = {"Accept-Encoding": "gzip"} if zipped else {}
    done = []
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if len(done) >= requests:
                    return
                done.append(1)
            fetch(urllib.request.Request(url, headers=headers))

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(done) / (time.perf_counter() - started)


def interleaved(page_url, static_url, rounds, seconds, connections, zipped):
    """Rates of the page and the file in rounds page, file, page, file...: their medians and
    the median of each round's ratio page / file."""
    pages, files = [], []
    for _ in range(rounds):
        pages.append(load(page_url, seconds, connections, zipped))
        files.append(load(static_url, seconds, connections, zipped))
    ratios = [p / f for p, f in zip(pages, files, strict=True)]
    return statistics.median(pages), statistics.median(files), statistics.median(ratios), ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="Length of each load run.")
    parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds per measure.")
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 64])
    args = parser.parse_args()
    tool = "wrk" if shutil.which("wrk") else "a Python loop (wrk not installed)"

    with workdir() as tmp:
        env = bench_env(tmp)
        prepare(env)

        port = spare_port()
        with gunicorn(dict(env, BENCH_PAGE_CACHE="0"), port) as base:
            path, timings = heaviest(base, public_pages(base))
            page = fetch(base + path)[0]
            uncached = load(base + path, args.seconds, args.connections[0])

        # A static file of the page's bytes, and its gzipped copy as collectstatic would make
        # it, in place before the server starts (WhiteNoise indexes the folder at startup).
        static_file = Path(tmp) / "static" / STATIC_NAME
        static_file.parent.mkdir(parents=True, exist_ok=True)
        static_file.write_bytes(page)
        static_file.with_name(static_file.name + ".gz").write_bytes(gzip.compress(page))

        port = spare_port()
        with gunicorn(env, port) as base:
            page_url, static_url = base + path, f"{base}/static/{STATIC_NAME}"
            assert fetch(static_url)[0] == page
            for url in (page_url, static_url):  # warm up
                for _ in range(50):
                    fetch(url)
            results = {
                (connections, encoding): interleaved(
                    page_url, static_url, args.rounds, args.seconds, connections, zipped
                )
                for connections in args.connections
                for encoding, zipped in (("plain", False), ("gzip", True))
            }

    print()
    print("Median render time of each page, page cache off (ms):")
    for p, seconds in sorted(timings.items(), key=lambda item: -item[1]):
        print(f"  {p:<32} {seconds * 1000:7.1f}")
    print(
        f"\nThroughput: gunicorn, 2 workers, 127.0.0.1; {tool}, {args.rounds} interleaved "
        f"rounds of {args.seconds} s"
    )
    print(f"  heaviest page {path} ({len(page) / 1024:.1f} KB)")
    print(f"  page, cache off ({args.connections[0]} connections) {uncached:9.1f} requests/s")
    for (connections, encoding), (cached, static, ratio, ratios) in results.items():
        at = f"{connections} connections, {encoding}"
        print(f"  {at}: page, cache on       {cached:9.1f} requests/s")
        print(f"  {at}: static file, same    {static:9.1f} requests/s")
        rounds = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"  {at}: ratio cached page / static file {ratio:.2f} (rounds: {rounds})")
    print("  target: 0.9 or more")


if __name__ == "__main__":
    main()
