"""Two application servers, one PostgreSQL database, one Redis cache: the shape for more traffic.

On this one machine, everything throwaway and on 127.0.0.1 (spare ports, data under /tmp):
  1. a PostgreSQL 15 cluster (initdb and pg_ctl as the `postgres` user) and Debian's
     redis-server;
  2. migrate, load_initial_data, collectstatic;
  3. gunicorn server A and gunicorn server B (two workers each) on different ports, sharing
     the database (DATABASE_URL) and the cache (CACHE_URL);
  4. B serves the home page (now cached in Redis) with a figure; a data manager imports a
     changed value of that figure through A's admin (log in, upload a CSV, confirm);
  5. B's very next response shows the new figure: the import bumped the page-cache version in
     the shared Redis, so no server keeps a stale page.
Everything it started is stopped at the end, also on an error or Ctrl-C.

Run as root (for runuser): .venv/bin/python bench/scale_demo.py   (or `make scale-demo`)
"""

import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, bench_env, gunicorn, manage, prepare, spare_port  # noqa: E402

PAGE = "/"
ADMIN_USER = "scale-demo"


def pg_bin(name):
    found = shutil.which(name)
    return found or f"/usr/lib/postgresql/15/bin/{name}"


def as_postgres(*command, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, **kwargs)


@contextmanager
def postgres(tmp):
    """A throwaway PostgreSQL cluster on a spare port; yields its DATABASE_URL."""
    data, sockets = tmp / "pg", tmp / "pg-run"  # pg-run: socket and log
    for folder in (data, sockets):
        folder.mkdir()
        shutil.chown(folder, "postgres")
    port = spare_port()
    quiet = {"stdout": subprocess.DEVNULL}
    initdb = f"{pg_bin('initdb')} -D {data} -U postgres -A trust -E UTF8 --no-sync".split()
    as_postgres(*initdb, **quiet)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off"
    start = [
        pg_bin("pg_ctl"),
        "-D",
        data,
        "-l",
        sockets / "postgres.log",
        "-o",
        options,
        "-w",
        "start",
    ]
    as_postgres(*start, **quiet)
    try:
        as_postgres(pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "portal")
        print(f"PostgreSQL 15 on 127.0.0.1:{port} (data in {data})")
        yield f"postgres://postgres@127.0.0.1:{port}/portal"
    finally:
        as_postgres(pg_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop", **quiet)
        print("PostgreSQL stopped")


@contextmanager
def redis(tmp):
    """Debian's redis-server on a spare port, in memory only; yields its CACHE_URL."""
    port = spare_port()
    command = f"redis-server --port {port} --bind 127.0.0.1 --appendonly no --dir {tmp}"
    process = subprocess.Popen([*command.split(), "--save", ""], stdout=subprocess.DEVNULL)
    ping = ["redis-cli", "-p", str(port), "ping"]
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(ping, capture_output=True, text=True).stdout.strip() != "PONG":
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.2)
        print(f"Redis on 127.0.0.1:{port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)
        print("Redis stopped")


def pick_figure():
    """Run inside `manage.py shell`: a count shown by a key figure on the home page, and a CSV
    row that changes it. Prints JSON."""
    from wagtail.models import Site

    from stats.display.batch import FigureStore
    from stats.exchange import export_dataset
    from stats.store.formatting import format_value

    home = Site.objects.get(is_default_site=True).root_page.specific
    store = FigureStore.for_stream(home.body)
    for block in home.body:
        if block.block_type == "key_figure":
            candidates = [(block.block, block.value)]
        elif block.block_type == "key_figures":
            child = block.block.child_blocks["figures"].child_block
            candidates = [(child, value) for value in block.value["figures"]]
        else:
            continue
        for child, value in candidates:
            figure = child.figure(value, store)
            if figure and figure["metric"].unit == "count":
                observation = figure["observation"]
                break
        else:
            continue
        break
    else:
        raise SystemExit("No count key figure on the home page.")
    old = observation.value
    observation.value = old * 10 + 7  # a changed figure, not saved here
    csv = export_dataset([observation], "csv").decode("utf-8-sig")
    unit = observation.metric.unit
    print(
        json.dumps(
            {
                "what": str(observation),
                "old": format_value(old, unit),
                "new": format_value(observation.value, unit),
                "csv": csv,
            }
        )
    )


class Browser:
    """A data manager's browser: cookies, and the CSRF token Django expects on each POST."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.geturl(), response.read().decode()

    def post(self, path, fields, files=None):
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        fields = {"csrfmiddlewaretoken": token, **fields}
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n')
            parts.append(f"{value}\r\n")
        for name, (filename, content) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n'
            )
        parts.append(f"--{boundary}--\r\n")
        request = urllib.request.Request(
            self.base + path,
            data="".join(parts).encode(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Referer": self.base + path,
            },
        )
        with self.opener.open(request, timeout=120) as response:
            return response.geturl(), response.read().decode()


def shows(html, text):
    """The figure as the whole text of an element (not a digit inside another number)."""
    return f">{text}<" in html


def visitor_get(base, path):
    """A visitor: no cookie. Returns the body and the response time in ms."""
    started = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=60) as response:
        assert "Set-Cookie" not in response.headers, "a visitor got a cookie"
        body = response.read().decode()
    return body, (time.perf_counter() - started) * 1000


def import_through_admin(base, password, csv):
    browser = Browser(base)
    browser.get("/admin/login/")
    url, _ = browser.post("/admin/login/", {"username": ADMIN_USER, "password": password})
    assert "/admin/login/" not in url, "login failed"
    browser.get("/admin/statistics/import/")
    url, html = browser.post("/admin/statistics/import/", {}, {"file": ("changed.csv", csv)})
    preview = urllib.parse.urlsplit(url).path
    assert preview.rstrip("/").split("/")[-1].isdigit(), f"upload was not accepted: {url}"
    print(f"  uploaded changed.csv to A; preview at {preview}")
    url, html = browser.post(f"{preview}confirm/", {})
    assert "Imported" in html, "the import was not confirmed"
    print("  confirmed the import on A")


def main():
    if os.geteuid() != 0:
        raise SystemExit("Run as root: the PostgreSQL cluster is started as the postgres user.")
    # Ctrl-C raises KeyboardInterrupt; make a kill (SIGTERM) unwind the same way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="portal-scale-", dir="/tmp"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        tmp.chmod(0o755)  # the postgres user works in here
        database_url = stack.enter_context(postgres(tmp))
        cache_url = stack.enter_context(redis(tmp))
        password = secrets.token_urlsafe(16)
        env = bench_env(
            tmp,
            DATABASE_URL=database_url,
            CACHE_URL=cache_url,
            PORTAL_ADMIN_USER=ADMIN_USER,
            PORTAL_ADMIN_PASSWORD=password,
        )
        prepare(env)
        manage(env, "ensure_admin")
        code = "from bench.scale_demo import pick_figure; pick_figure()"
        shell = [sys.executable, "manage.py", "shell", "-c", code]
        out = subprocess.run(shell, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        figure = json.loads(out.stdout.strip().splitlines()[-1])

        log = tmp / "gunicorn.log"
        a = stack.enter_context(gunicorn(env, spare_port(), log=log))
        b = stack.enter_context(gunicorn(env, spare_port(), log=log))
        print(f"Server A: {a}   Server B: {b}   (same database, same Redis cache)")
        print(f"Figure: {figure['what']}: {figure['old']} -> {figure['new']}")

        before, first_ms = visitor_get(b, PAGE)
        before, cached_ms = visitor_get(b, PAGE)
        print(
            f"B {PAGE} before: shows {figure['old']}: {shows(before, figure['old'])}; "
            f"shows {figure['new']}: {shows(before, figure['new'])} "
            f"(first visit {first_ms:.0f} ms, cached visit {cached_ms:.0f} ms)"
        )
        assert shows(before, figure["old"]) and not shows(before, figure["new"])
        started = time.perf_counter()
        import_through_admin(a, password, figure["csv"])
        after, after_ms = visitor_get(b, PAGE)
        visible = shows(after, figure["new"])
        print(
            f"B {PAGE} right after the import on A: shows {figure['new']}: {visible} "
            f"(log-in, upload and confirm took {(time.perf_counter() - started) * 1000:.0f} ms; "
            f"this visit {after_ms:.0f} ms)"
        )
        again, again_ms = visitor_get(b, PAGE)
        print(f"B {PAGE} next visit (cached again): {again_ms:.0f} ms, same page: {again == after}")
        if not visible:
            raise SystemExit("FAILED: server B still shows the old figure.")
        print("OK: an import through server A is visible at once on server B.")


if __name__ == "__main__":
    main()
