# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The site's address (canonical links, sitemap) follows the port it is served on.
export PORT

.PHONY: run test install install-dev setup serve lint bench bench-import scale-demo clean

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

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_initial_data
	$(PY) manage.py ensure_admin

run: setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install-dev
	$(PY) -m pytest

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

bench-import: install
	$(PY) bench/import_bench.py

# Two gunicorn servers sharing a throwaway PostgreSQL 15 and Redis (run as root).
scale-demo: install
	$(PY) bench/scale_demo.py

clean:
	rm -rf var db.sqlite3
