"""Every `$ref` in the OpenAPI document points at a schema it defines (found: ReplayIn and BulkIn
were referenced by the dead-letter routes and never defined)."""

import json
import re

from api.openapi import openapi_document


def test_every_reference_resolves():
    document = openapi_document()
    referenced = set(re.findall(r"#/components/schemas/(\w+)", json.dumps(document)))
    assert referenced - set(document["components"]["schemas"]) == set()
