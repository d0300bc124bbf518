"""Property-based run of schemathesis against the API's own OpenAPI schema, through the WSGI
application: a bounded number of generated requests per operation, none a server error."""

from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from stats.models import Observation
from stats.opendata import api as api_module

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25


@pytest.fixture
def api_schema(open_data_figures, monkeypatch):
    # Generated requests must reach the views, not the rate limit.
    monkeypatch.setattr(api_module.throttle, "num_requests", 1_000_000)
    # Requests go through the real WSGI handler, whose request signals would close the
    # test's connection (inside its transaction) on PostgreSQL; Django's test client
    # disconnects them the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case):
    response = case.call_and_validate(checks=[not_a_server_error])
    assert response.status_code < 500
    assert response.headers["content-type"][0].startswith("application/json")


def test_the_run_covers_every_operation_and_changes_nothing(api_schema, open_data_figures):
    """The parametrized test above is generated for each GET operation of the schema."""
    operations = [
        result.ok().method.upper() + " " + result.ok().path
        for result in api_schema.get_all_operations()
    ]
    assert sorted(operations) == [
        "GET /api/jurisdictions",
        "GET /api/metrics",
        "GET /api/observations",
        "GET /api/sources",
    ]
    assert Observation.objects.filter(value=Decimal(170)).exists()
