"""The one exception type for everything that can go wrong talking to parti."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    NOT_JSON = "not_json"
    UNEXPECTED_SHAPE = "unexpected_shape"


KIND_LABELS = {
    Kind.UNREACHABLE: "parti could not be reached",
    Kind.TIMEOUT: "parti took too long to answer",
    Kind.HTTP_STATUS: "parti answered with an error",
    Kind.NOT_JSON: "parti sent something that is not data",
    Kind.UNEXPECTED_SHAPE: "parti sent data in a shape we do not understand",
}


class UpstreamError(Exception):
    def __init__(self, kind: Kind, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    @property
    def is_not_found(self) -> bool:
        return self.kind == Kind.HTTP_STATUS and self.status in (404, 410)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    def __reduce__(self):
        return (type(self), (self.kind, self.message, self.status))
