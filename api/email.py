"""`Email`: pydantic's EmailStr, with a fast path for the plain addresses nearly everyone sends.

EmailStr runs email-validator on every address: display-name parsing, Unicode normalization and
IDNA decoding of the domain. At a flash sale's rate that was 6.5 % of the web worker's
interpreter time (docs/performance.md). An address of plain ASCII (a dot-atom before the @, a
lower-case LDH host name after it) that none of those steps can change or refuse is accepted as
it is; anything else (upper case in the domain, display names, quotes, Unicode, punycode,
reserved domains, role mailboxes that get lower-cased) goes to EmailStr's own validation, which
decides and words the error exactly as before. tests/unit/test_email.py checks, over generated
addresses, that the fast path only accepts what EmailStr accepts, unchanged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from email_validator.rfc_constants import ATEXT, CASE_INSENSITIVE_MAILBOX_NAMES, EMAIL_MAX_LENGTH
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic.networks import validate_email
from pydantic_core import CoreSchema, core_schema

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# At least two labels; the last ends with a letter (email-validator's top-level-domain rule).
PLAIN = re.compile(rf"([{ATEXT}]+(?:\.[{ATEXT}]+)*)@((?:{_LABEL}\.)+(?:[a-z0-9][a-z0-9-]{{0,61}})?[a-z])")
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)  # email-validator lower-cases these
_RESERVED = tuple(SPECIAL_USE_DOMAIN_NAMES)


def is_plain(value: str) -> bool:
    """An address email-validator accepts and leaves exactly as it is."""
    if len(value) > EMAIL_MAX_LENGTH or (match := PLAIN.fullmatch(value)) is None:
        return False
    local, domain = match.groups()
    if local.lower() in _ROLE_MAILBOXES or "--" in domain:  # lower-cased; IDNA rules on "--"
        return False
    return not any(domain == name or domain.endswith("." + name) for name in _RESERVED)


def check_email(value: str) -> str:
    """The address as EmailStr would give it (normalized), or EmailStr's error."""
    return value if is_plain(value) else validate_email(value)[1]


if TYPE_CHECKING:
    Email = str
else:

    class Email:
        """EmailStr's pattern exactly (a class, so `Field` constraints apply after the check, as
        they do to EmailStr), with `check_email` as its validator."""

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
            return core_schema.no_info_after_validator_function(check_email, core_schema.str_schema())

        @classmethod
        def __get_pydantic_json_schema__(
            cls, schema: CoreSchema, handler: GetJsonSchemaHandler
        ) -> JsonSchemaValue:
            field_schema = handler(schema)
            field_schema.update(type="string", format="email")
            return field_schema
