"""User-facing errors: the CLI prints their message on one line and exits non-zero."""


class GraphrecError(Exception):
    """A mistake in the user's input or environment, not a bug in graphrec."""

    exit_code = 2


class DataError(GraphrecError):
    """A data file is missing, malformed or inconsistent."""


class CheckpointError(GraphrecError):
    """A run directory or weights file cannot be used."""
