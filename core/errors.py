"""Errors shared by the API and the workers."""


class PermanentError(Exception):
    """A failure that retrying cannot fix: a 4xx from a provider, bad data, a missing row.

    The worker's retry policy fails such a message at once instead of retrying it.
    """
