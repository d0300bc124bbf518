"""Lighthouse scores (mobile, simulated throttling) of every public page, and the search.

gunicorn with two workers on 127.0.0.1 (a spare port), bench.settings, a temporary database
with the shipped content (deleted at the end), the page cache on as in production. Each page
is measured --runs times and the median score is printed, with the median LCP, TBT and CLS.
Lighthouse is not a dependency of the portal: install it with npm where you run benchmarks
(`npm install -g lighthouse`, or set LIGHTHOUSE to its path) and point CHROME_PATH at a
Chromium (default /usr/bin/chromium).

Run: .venv/bin/python bench/lighthouse.py [--runs N]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env, gunicorn, prepare, spare_port, workdir  # noqa: E402

CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)


def pages_to_measure(env):
    """{label: path}: every live page of the default site in its default language (the
    Spanish pages use the same templates), and a search."""
    os.environ.update(env)
    import django

    django.setup()
    from wagtail.models import Page, Site

    site = Site.objects.get(is_default_site=True)
    found = {}
    pages = Page.objects.live().descendant_of(site.root_page, inclusive=True)
    for page in pages.filter(locale=site.root_page.locale).order_by("path").specific():
        found[f"{type(page).__name__} {page.slug}"] = page.get_url(current_site=site)
    found["search"] = "/search/?q=hotline"  # a view, not a page type
    return found


def lighthouse(binary, url):
    with tempfile.TemporaryDirectory(prefix="portal-lh-") as profile:
        out = subprocess.run(
            [
                binary,
                url,
                "--output=json",
                "--output-path=stdout",
                "--quiet",
                "--only-categories=performance,accessibility,best-practices,seo",
                f"--chrome-flags={CHROME_FLAGS} --user-data-dir={profile}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=240,
        ).stdout
    report = json.loads(out)
    audits = report["audits"]
    return {
        **{key: round(c["score"] * 100) for key, c in report["categories"].items()},
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page.")
    args = parser.parse_args()
    binary = os.environ.get("LIGHTHOUSE") or shutil.which("lighthouse")
    if not binary:
        raise SystemExit("No Lighthouse: npm install -g lighthouse, or set LIGHTHOUSE.")
    os.environ.setdefault("CHROME_PATH", "/usr/bin/chromium")

    with workdir() as tmp:
        env = bench_env(tmp)
        prepare(env)
        pages = pages_to_measure(env)
        rows = []
        with gunicorn(env, spare_port()) as base:
            for kind, path in pages.items():
                runs = []
                for _ in range(args.runs):
                    try:
                        runs.append(lighthouse(binary, base + path))
                    except (subprocess.SubprocessError, ValueError, KeyError) as error:
                        print(f"  {path}: a run failed ({error}); not counted", flush=True)
                if not runs:
                    continue
                print(f"  {path}: performance {[r['performance'] for r in runs]}", flush=True)
                median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((kind, path, median, [r["performance"] for r in runs]))

    print(f"\nLighthouse, mobile (simulated throttling), median of {args.runs} runs per page")
    header = f"{'page':<34} {'path':<28} {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4}"
    header += f" {'LCP ms':>7} {'TBT ms':>7} {'CLS':>6}  perf of each run"
    print(header)
    print("-" * len(header))
    for kind, path, m, perf in rows:
        print(
            f"{kind:<34} {path:<28} {m['performance']:>4.0f} {m['accessibility']:>4.0f} "
            f"{m['best-practices']:>4.0f} {m['seo']:>4.0f} {m['lcp']:>7.0f} {m['tbt']:>7.0f} "
            f"{m['cls']:>6.3f}  {perf}"
        )
    print(f"lowest performance score: {min(m['performance'] for _k, _p, m, _r in rows):.0f}")


if __name__ == "__main__":
    main()
