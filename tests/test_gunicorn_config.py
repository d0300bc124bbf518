"""The shipped gunicorn configuration (gunicorn.conf.py, read by gunicorn from the folder it is
started in, as `make serve` does): a response that takes longer than the worker timeout to
send (a full download to a slow phone) is sent whole, never cut by the timeout."""

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SLOW_APP = """
import time

PIECES = 8


def app(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(PIECES * 1000))]
    )

    def body():
        for _ in range(PIECES):
            time.sleep(0.5)  # 4 s in all, twice the timeout below
            yield b"x" * 1000

    return body()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, deadline):
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                data = b""
                while piece := conn.recv(65536):
                    data += piece
                return data
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_response_longer_than_the_worker_timeout_is_sent_whole(tmp_path):
    (tmp_path / "slow_app.py").write_text(SLOW_APP)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
            "--chdir", str(tmp_path), "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--timeout", "2", "slow_app:app",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        response = get(port, time.monotonic() + 30)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert len(body) == 8000, (len(body), errors.decode()[-2000:])
