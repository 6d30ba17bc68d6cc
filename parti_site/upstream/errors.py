"""The one exception type for everything that can go wrong talking to parti."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    NOT_JSON = "not_json"
    UNEXPECTED_SHAPE = "unexpected_shape"
    # Not an answer from parti: its circuit is open (circuit.py), so it was not asked.
    CIRCUIT_OPEN = "circuit_open"


KIND_LABELS = {
    Kind.UNREACHABLE: "parti could not be reached",
    Kind.TIMEOUT: "parti took too long to answer",
    Kind.HTTP_STATUS: "parti answered with an error",
    Kind.NOT_JSON: "parti sent something that is not data",
    Kind.UNEXPECTED_SHAPE: "parti sent data in a shape we do not understand",
    Kind.CIRCUIT_OPEN: "parti has been failing, so we are giving it a short rest",
}


class UpstreamError(Exception):
    def __init__(
        self,
        kind: Kind,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        # Seconds parti (a 429 or 503 `Retry-After`) or an open circuit asks us to wait.
        self.retry_after = retry_after

    @property
    def is_not_found(self) -> bool:
        return self.kind == Kind.HTTP_STATUS and self.status in (404, 410)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    def __reduce__(self):
        return (type(self), (self.kind, self.message, self.status, self.retry_after))
