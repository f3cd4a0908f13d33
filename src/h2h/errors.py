"""Errors a service raises and an edge (API, UI, CLI) turns into a readable answer.

Messages are English msgids, translated where they are shown; mark them with ``N_`` so
Babel extracts them. Parameters are formatted after translation (``{name}`` style).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


class H2HError(Exception):
    status_code = 400
    title = N_("Bad request")

    def __init__(self, message: str, /, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.field = field
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the reader's language; parameters that are errors are translated too."""
        text = gettext(self.message)
        if not self.params:
            return text
        params = {
            key: value.translated(gettext) if isinstance(value, H2HError) else value
            for key, value in self.params.items()
        }
        return text.format(**params)


class InvalidInput(H2HError):
    status_code = 422
    title = N_("Invalid input")


class Unauthenticated(H2HError):
    status_code = 401
    title = N_("Not logged in")


class PermissionDenied(H2HError):
    status_code = 403
    title = N_("Forbidden")


class NotFound(H2HError, LookupError):
    status_code = 404
    title = N_("Not found")

    def __init__(self, message: str = N_("Not found."), /, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Conflict(H2HError):
    status_code = 409
    title = N_("Conflict")


class TooManyAttempts(H2HError):
    status_code = 429
    title = N_("Too many attempts")

    def __init__(self, message: str, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after
