"""Schemathesis drives every documented route with generated requests: no 5xx, answers as documented."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import ADMIN, CRON, STOREFRONT

TOKENS = {"storefront": STOREFRONT, "admin": ADMIN, "cron": CRON}


def fuzz(operation, headers):
    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def exercise(case):
        # Schema-valid is not business-valid (an unknown SKU, a bulk action with no filter): a 422
        # there is right, so the "positive data must be accepted" check is off; every other check runs.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    return exercise


def test_every_route_answers_as_documented(client):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", client.app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # The first requirement that names a scheme; `{}` (anonymous allowed) needs no header.
        schemes = [
            name for requirement in operation.definition.raw.get("security") or [] for name in requirement
        ]
        headers = (
            {"Authorization": f"Bearer {TOKENS[schemes[0]]}"} if schemes and schemes[0] in TOKENS else {}
        )
        try:
            fuzz(operation, headers)()
        except Exception as error:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
