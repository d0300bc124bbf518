"""`load_initial_data` on an empty database builds the Missouri site; run again it changes
nothing, and keeps what a data manager corrected since (the whole load, twice: the other
Missouri tests share one load, in tests/missouri)."""

import io

from django.core.management import call_command

from stats.models import Observation
from tests.content_fixtures import TOPICS, loaded_content


def test_load_initial_data_builds_the_site_and_a_second_run_changes_nothing_corrected(db):
    call_command("load_initial_data", stdout=io.StringIO())
    first = loaded_content()
    assert len(first["tree"]) == 2 + len(TOPICS) + (1 + len(TOPICS))  # and Spanish
    figure = Observation.objects.get(
        metric__slug="new-defendants", jurisdiction__code="MO", period_start__year=2020
    )
    figure.value = 9
    figure.save()
    call_command("load_initial_data", stdout=io.StringIO())
    assert loaded_content() == first
    figure.refresh_from_db()
    assert figure.value == 9
