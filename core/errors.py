"""One family of domain errors. Each carries a message a person can act on.

Front ends show ``str(error)`` as it is: it says what was wrong and, where it
helps, how to say it right. Raising one of these means nothing was written.
"""


class PaystageError(Exception):
    """Base of every error a user can cause; the message is safe to show."""


class InvalidInput(PaystageError):
    """The input could not be read or breaks a rule (bad amount, bad phone, percentages not 100%)."""


class NotFound(PaystageError):
    """The thing named does not exist, or does not belong to the one asking."""


class Conflict(PaystageError):
    """The request is well formed but the job's state does not allow it (e.g. a cancelled job)."""


class NotAllowed(PaystageError):
    """The one asking may not do this here: a stranger to a private Paystage, or someone who is not its owner."""
