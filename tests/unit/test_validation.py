import pytest
from pydantic import ValidationError

from api.schemas import ReservationIn
from api.validation import field_path


def test_field_path_renders_nested_locations():
    assert field_path(("items", 0, "quantity")) == "items[0].quantity"
    assert field_path(("email",)) == "email"
    assert field_path(()) == "body"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com", "items": []},
        {"email": "not-an-email", "items": [{"sku": "a", "quantity": 1}]},
        {"email": "a@example.com", "items": [{"sku": "a", "quantity": 0}]},
        {"email": "a@example.com", "items": [{"sku": "a", "quantity": "1"}]},
        {"email": "a@example.com", "items": [{"sku": "a", "quantity": 10**9}]},
        {"email": "a@example.com", "items": [{"sku": "a b", "quantity": 1}]},
        {"email": "a@example.com", "items": [{"sku": "a", "quantity": 1}], "extra": 1},
    ],
)
def test_reservation_bodies_that_are_refused(body):
    with pytest.raises(ValidationError):
        ReservationIn.model_validate(body)
