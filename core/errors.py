"""One family of domain errors, mapped once: to HTTP statuses in the API, to messages in pages."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(DomainError):
    status_code = 400


class NotPermitted(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class TransitionNotAllowed(DomainError):
    status_code = 409


class Conflict(DomainError):
    status_code = 409


class Busy(DomainError):
    """The database kept refusing the change for contention (deadlock or serialization failure, already retried;
    core/transactions.py). Nothing was saved: the same request can simply be sent again."""

    status_code = 503
    retry_after = 1  # seconds, sent as Retry-After by the API
