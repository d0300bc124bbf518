# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The site's address (canonical links, sitemap) follows the port it is served on.
export PORT

.PHONY: run test install install-dev setup messages messages-update serve lint bench bench-import bench-lighthouse bench-scale scale-demo clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The interface in Spanish: compile locale/*/LC_MESSAGES/django.po (needs gettext's msgfmt).
# The compiled .mo files are not kept in git, so they are never stale.
# Compiles the Spanish catalog: with gettext's msgfmt when it is installed, else with polib
# (a Python dependency), so `make run` needs nothing outside the virtualenv.
messages: install
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --ignore=.venv --ignore=var; \
	else \
		$(PY) -c "import polib; polib.pofile('locale/es/LC_MESSAGES/django.po').save_as_mofile('locale/es/LC_MESSAGES/django.mo')"; \
	fi

# After changing interface strings: add the new ones to the catalog, then translate them.
messages-update: install
	$(PY) manage.py makemessages --locale=es --no-location --ignore=.venv --ignore=var \
		--ignore=bench --ignore=tests

setup: install messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_initial_data
	$(PY) manage.py ensure_admin

# The server and, beside it, a worker for background imports; Ctrl-C stops both.
run: setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/), with an import worker"
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py import_worker --no-reload & worker=$$!; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite on TEST_WORKERS processes (pytest-xdist; each gets its own test database). Each
# test module runs whole on one worker, and each package that loads the Missouri site once
# (tests/missouri, tests/browser) too (tests/conftest.py). Prints how long it took.
TEST_WORKERS ?= auto
test: install-dev messages
	@start=$$(date +%s); status=0; \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS) || status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s"; exit $$status

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Production-like: gunicorn behind your proxy; needs SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL.
serve: install
	DJANGO_SETTINGS_MODULE=portal.settings.production $(PY) manage.py collectstatic --noinput
	DJANGO_SETTINGS_MODULE=portal.settings.production $(VENV)/bin/gunicorn portal.wsgi \
		--bind 127.0.0.1:$(PORT) --workers $${WEB_CONCURRENCY:-2} --access-logfile -

# Figures, not pass/fail: page queries and render times, throughput, the import.
bench: install
	$(PY) bench/pages.py
	$(PY) bench/throughput.py
	$(MAKE) bench-import

# The import against a raw-ORM insert, and a 10-row preview at ~100,000 figures against 72.
# On PostgreSQL: make bench-import IMPORT_ARGS="--postgres postgres://USER@HOST:PORT"
IMPORT_ARGS ?=
bench-import: install
	$(PY) bench/import_bench.py $(IMPORT_ARGS)

# Lighthouse (mobile) on one page of every type; needs Lighthouse from npm (bench/lighthouse.py).
bench-lighthouse: install
	$(PY) bench/lighthouse.py

# The store, API, downloads, pages and staff screens with ~100,000 and ~200,000 synthetic
# figures (made up inside the benchmark's throwaway databases only), beside the shipped 72;
# SCALE=1M: 72, ~100,000 and ~1,000,000 (synthetic counties). Options through SCALE_ARGS:
# make bench-scale SCALE_ARGS="--skip-districts --rounds 1" (the 100,000 only).
# BENCH_KEEP_DB=1 keeps the built databases (PostgreSQL) for the next run.
SCALE ?= 100k
SCALE_ARGS ?=
bench-scale: install
	$(PY) bench/scale.py --scale $(SCALE) $(SCALE_ARGS)

# Two gunicorn servers sharing a throwaway PostgreSQL 15 and Redis (run as root).
scale-demo: install
	$(PY) bench/scale_demo.py

clean:
	rm -rf var db.sqlite3
