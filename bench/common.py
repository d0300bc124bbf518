"""Shared by the benchmark scripts: a temporary database with the shipped content, static
files, spare ports, and gunicorn servers that are always stopped."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
PAGES = {
    "home": "/",
    "federal prosecutions": "/federal-prosecutions/",
    "hotline statistics": "/hotline-statistics/",
}


def workdir():
    """A temporary folder, in memory when the machine has /dev/shm (faster setup)."""
    shm = Path("/dev/shm")
    return tempfile.TemporaryDirectory(
        prefix="portal-bench-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    )


def bench_env(tmp, **extra):
    """The environment of a benchmark process: bench.settings on a temporary database."""
    env = dict(os.environ)
    env.pop("CACHE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{tmp}/portal.sqlite3",
        BENCH_STATIC_ROOT=f"{tmp}/static",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def manage(env, *args, quiet=True):
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def prepare(env, static=True):
    """Migrate the (empty, temporary) database, load the shipped content, collect static."""
    started = time.perf_counter()
    print("Preparing a temporary database (migrate, load_initial_data)...", flush=True)
    manage(env, "migrate", "--noinput")
    manage(env, "load_initial_data")
    if static:
        manage(env, "collectstatic", "--noinput")
    print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)


def spare_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextmanager
def gunicorn(env, port, workers=2, log=None):
    """A gunicorn server on 127.0.0.1:port, stopped (and waited for) on the way out."""
    command = [GUNICORN, "portal.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--log-level", "warning", "--chdir", str(ROOT)]
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/robots.txt")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            out.close()
