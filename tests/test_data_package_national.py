"""The data package of a national-shaped store: every state and territory, every metric and
category, made up by bench/scale.py's own generator at a small size (BENCH_TINY: a few places
and years, a few thousand rows, a tenth restated), then `frictionless validate` on the national
scope's package and downloads as the worker builds them (bench.scale.validate_package, which
`make bench-scale` runs at its size)."""

import random

import pytest
from django.db import transaction

from bench.scale import bulk_load, national_rows, validate_package
from stats.models import Observation, announce_figures_changed
from tests.content_fixtures import load_missouri

pytestmark = pytest.mark.django_db


@pytest.fixture
def national_store(monkeypatch):
    load_missouri()
    monkeypatch.setenv("BENCH_TINY", "1")
    bulk_load(national_rows(random.Random(14), districts=True))
    with transaction.atomic():
        announce_figures_changed()
    return Observation.objects.count()


def test_a_national_shaped_package_validates(national_store):
    assert 2000 <= national_store <= 20000
    assert validate_package("all") == []


def test_a_restated_figure_marked_current_twice_is_found(national_store):
    """The validation fails when a key repeats: two current values of one figure."""
    restated = Observation.objects.filter(is_current=False).first()
    Observation.objects.filter(pk=restated.pk).update(is_current=True)
    with transaction.atomic():
        announce_figures_changed()
    errors = validate_package("all")
    assert any("primary-key" in e for e in errors), errors
