"""Email: templates rendered to subject, HTML and text (`core.email.render`), and sending through
Resend with an idempotency key, or logging in development (`core.email.client`).

Nothing is re-exported here, so `core.email.render` stays the module (not its `render` function)
and rendering does not import the resend SDK. Nothing here reads files or the network at import.
"""
