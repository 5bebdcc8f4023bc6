"""Exceptions that carry one plain sentence for the user.

The CLI prints ``Error: <message>`` for these and exits 1; anything else is a bug
and exits 2 (with a traceback only under ``--debug``).
"""


class SmclassError(Exception):
    """Base class: the message is a complete sentence meant for the user."""


class DataError(SmclassError, ValueError):
    """Input posts or labels cannot be used as given (names file, row and column)."""


class ModelError(SmclassError):
    """A model file is missing, corrupt, untrusted or not an smclass model."""


class UsageError(SmclassError):
    """The command was called with options that do not fit together."""
