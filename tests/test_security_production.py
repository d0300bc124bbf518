"""Production settings: `check --deploy` is clean, and a missing variable stops start-up with one
line (run in a subprocess, as an operator would)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "PORTAL_BASE_URL")


def manage(args, env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def production_env(tmp_path):
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),  # 67 random characters
        "ALLOWED_HOSTS": "portal.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORTAL_BASE_URL": "https://portal.example.org",
    }


def test_check_deploy_prints_no_warning(production_env, tmp_path):
    result = manage(["check", "--deploy"], production_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.stderr == ""


def test_check_deploy_does_warn_about_a_weak_key(production_env, tmp_path):
    # The clean result above means something: a short key is reported.
    result = manage(["check", "--deploy"], {**production_env, "SECRET_KEY": "short"}, tmp_path)
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_variable_stops_with_one_line(production_env, tmp_path, missing):
    env = {k: v for k, v in production_env.items() if k != missing}
    result = manage(["check", "--deploy"], env, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"portal: {missing} is not set.")
    assert "Traceback" not in result.stderr


def test_blank_secret_key_counts_as_missing(production_env, tmp_path):
    result = manage(["check"], {**production_env, "SECRET_KEY": "   "}, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("portal: SECRET_KEY is not set.")


def test_a_base_url_that_is_no_address_stops_start_up(production_env, tmp_path):
    result = manage(
        ["check"], {**production_env, "PORTAL_BASE_URL": "portal.example.org"}, tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.startswith("portal: PORTAL_BASE_URL must be an address")
