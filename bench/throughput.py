"""Requests per second of the heaviest public page and of a static file of the same size.

gunicorn with two workers on 127.0.0.1 (a spare port), bench.settings, a temporary database
with the shipped content (deleted at the end). The heaviest page is the slowest to render of
the pages in the sitemap. A bounded load (wrk when installed, else a Python loop with a fixed
request count and a time cap) runs against:
  1. the page with the page cache taken out (every visit renders);
  2. the page with the page cache on (the normal configuration);
  3. a static file of the page's size, served by WhiteNoise in the same server.
Prints the three rates and the ratio cached page / static file (target: 0.5 or more).

Run: .venv/bin/python bench/throughput.py [--seconds S] [--connections C]
"""

import argparse
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


def heaviest(base, paths):
    """The path with the longest median response time, every visit rendered (no page cache)."""
    timings = {}
    for path in paths:
        fetch(base + path)
        timings[path] = statistics.median(fetch(base + path)[1] for _ in range(5))
    return max(timings, key=timings.get), timings


def load(url, seconds, connections):
    """Requests per second under a bounded load."""
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "Non-2xx" in out or "Socket errors" in out:
            raise SystemExit(f"errors under load at {url}:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return python_load(url, seconds, connections)


def python_load(url, seconds, connections, requests=20_000):
    """Fallback without wrk: `connections` threads, at most `requests` in at most `seconds`."""
    done = []
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if len(done) >= requests:
                    return
                done.append(1)
            fetch(url)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(done) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Length of each load run.")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    tool = "wrk" if shutil.which("wrk") else "a Python loop (wrk not installed)"

    with workdir() as tmp:
        env = bench_env(tmp)
        prepare(env)

        port = spare_port()
        with gunicorn(dict(env, BENCH_PAGE_CACHE="0"), port) as base:
            path, timings = heaviest(base, public_pages(base))
            page = fetch(base + path)[0]
            uncached = load(base + path, args.seconds, args.connections)

        # A static file as large as the page, in place before the server starts (WhiteNoise
        # indexes the static folder at startup).
        static_file = Path(tmp) / "static" / STATIC_NAME
        static_file.parent.mkdir(parents=True, exist_ok=True)
        static_file.write_bytes(page)

        port = spare_port()
        with gunicorn(env, port) as base:
            assert fetch(f"{base}/static/{STATIC_NAME}")[0] == page
            for url in (base + path, f"{base}/static/{STATIC_NAME}"):  # warm up
                for _ in range(50):
                    fetch(url)
            cached = load(base + path, args.seconds, args.connections)
            static = load(f"{base}/static/{STATIC_NAME}", args.seconds, args.connections)

    print()
    print("Median render time of each page, page cache off (ms):")
    for p, seconds in sorted(timings.items(), key=lambda item: -item[1]):
        print(f"  {p:<32} {seconds * 1000:7.1f}")
    print(
        f"\nThroughput: gunicorn, 2 workers, 127.0.0.1; {tool}, "
        f"{args.connections} connections, {args.seconds} s per run"
    )
    print(f"  heaviest page {path} ({len(page) / 1024:.1f} KB)")
    print(f"  page, cache off         {uncached:9.1f} requests/s")
    print(f"  page, cache on          {cached:9.1f} requests/s")
    print(f"  static file, same size  {static:9.1f} requests/s")
    print(f"  ratio cached page / static file: {cached / static:.2f} (target 0.5 or more)")


if __name__ == "__main__":
    main()
