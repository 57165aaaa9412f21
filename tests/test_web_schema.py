"""Schemathesis against the app's OpenAPI schema, in-process (ASGI, no network): no input gives a 5xx.

Bounded: a few examples per operation, simulations capped by the API's own limits and cancelled at the end.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from inferonomics.web import create_app  # noqa: E402

EXAMPLES = int(os.environ.get("INFERONOMICS_SCHEMA_EXAMPLES", "6"))
"""Examples per operation; raise it for a deeper local run (e.g. 200)."""

APP = create_app(trusted_hosts=("testserver",), max_running_jobs=1)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _stop_jobs():
    yield
    APP.state.jobs.cancel_all()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 6,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
