"""The Falcon WSGI app: resources, auth, rate limits, errors, OpenAPI."""
