from api.admin_page.session import Sessions


def test_a_session_round_trips_with_its_operator_and_expires():
    sessions = Sessions("a" * 32, lifetime=60)
    cookie = sessions.issue("ada.lovelace@example.com", now=1000)
    session = sessions.open(cookie, now=1030)
    assert session is not None and session.operator == "ada_lovelace@example_com"
    assert sessions.nonce(cookie, now=1061) is None


def test_the_operator_name_cannot_forge_a_session():
    sessions = Sessions("a" * 32)
    expires, nonce, _operator, signature = sessions.issue("ada").split(".")
    assert sessions.open(f"{expires}.{nonce}.root.{signature}") is None
    assert sessions.open(sessions.issue("x.y.z")) is not None  # dots cannot split the cookie


def test_tampered_or_foreign_cookies_are_refused():
    sessions = Sessions("a" * 32)
    cookie = sessions.issue()
    expires, nonce, operator, signature = cookie.split(".")
    assert sessions.nonce(f"{int(expires) + 999}.{nonce}.{operator}.{signature}") is None
    assert sessions.nonce(Sessions("b" * 32).issue()) is None  # another token: rotation logs everyone out
    assert sessions.nonce("garbage") is None and sessions.nonce(None) is None


def test_csrf_tokens_are_per_session():
    sessions = Sessions("a" * 32)
    one, two = sessions.nonce(sessions.issue()), sessions.nonce(sessions.issue())
    assert sessions.check_csrf(one, sessions.csrf(one))
    assert not sessions.check_csrf(one, sessions.csrf(two))
    assert not sessions.check_csrf(one, None)


def test_token_check_is_exact():
    sessions = Sessions("secret-token-0123456789abcdef01234")
    assert sessions.check_token("secret-token-0123456789abcdef01234")
    assert not sessions.check_token("secret-token")
