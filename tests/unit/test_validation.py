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


# --- messages in the API's words (issue 7): no model class names, no Python wording ---------

PYTHON_WORDS = ("ReservationIn", "ProductIn", "Item", "instance of", "dictionary", "Input should", "Field ")


def _messages(model, body):
    from api.messages import field_errors

    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {e["field"]: e["message"] for e in field_errors(caught.value)}


def test_a_body_that_is_not_an_object_is_named_as_json_would():
    assert _messages(ReservationIn, ["a", "list"]) == {"body": "must be an object"}
    assert _messages(ReservationIn, {"email": "a@example.com", "items": ["x"]}) == {
        "items[0]": "must be an object"
    }


def test_types_and_limits_speak_json():
    from api.schemas import ProductIn

    messages = _messages(
        ProductIn,
        {
            "name": "x" * 201,
            "stock": 1.5,
            "price": -1,
            "currency": "dollars",
            "low_stock_threshold": None,
            "x": 1,
        },
    )
    assert messages == {
        "name": "must be at most 200 characters",
        "stock": "must be an integer (no fractional part)",
        "price": "must be at least 0",
        "currency": "must be a three-letter ISO 4217 code, like USD",
        "low_stock_threshold": "must be an integer",
        "x": "is not a known field",
    }
    assert _messages(ProductIn, {"stock": "3", "name": ""}) == {
        "name": "must not be empty",
        "stock": "must be a JSON integer",
        "price": "is required",
    }


def test_list_limits_and_email_are_plain():
    too_many = [{"sku": "a", "quantity": 1}] * 101
    assert _messages(ReservationIn, {"email": "a@example.com", "items": too_many}) == {
        "items": "must have at most 100 items"
    }
    messages = _messages(ReservationIn, {"email": "nope", "items": []})
    assert messages["items"] == "must have at least 1 item"
    assert messages["email"].startswith("must be an email address")


def test_unknown_error_types_lose_their_python_wording():
    from api.messages import plain_message

    error = {
        "type": "some_new_type",
        "loc": ("x",),
        "msg": "Input should be a valid dictionary or instance of Foo",
    }
    assert plain_message(error) == "must be a valid object"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        "text",
        {"email": 5, "items": "x"},
        {"email": "a@example.com", "items": [None, {"sku": 3, "quantity": True}, {}]},
        {"email": "a@example.com", "items": [{"sku": "a\x00", "quantity": 1}], "cart_id": 1},
    ],
)
def test_no_python_words_reach_a_client(body):
    for message in _messages(ReservationIn, body).values():
        assert not any(word in message for word in PYTHON_WORDS), message
