"""GitHub's error responses.

GitHub answers errors with a JSON body ``{"message", "documentation_url", "status"}``
(plus ``errors`` for validation failures), see
https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api .
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class APIError(Exception):
    """Raised by handlers; rendered as GitHub's JSON error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.documentation_url
        out["status"] = str(self.status)
        return out


def not_found(documentation_url: str = DOCS) -> APIError:
    return APIError(404, "Not Found", documentation_url=documentation_url)


def bad_credentials() -> APIError:
    return APIError(401, "Bad credentials")


def requires_authentication() -> APIError:
    return APIError(401, "Requires authentication")


def not_accessible() -> APIError:
    """What an installation token gets for an endpoint its App lacks the permission for."""
    return APIError(403, "Resource not accessible by integration")


def invalid_request(detail: str, documentation_url: str = DOCS) -> APIError:
    """GitHub's JSON-schema validation failure, e.g. ``Invalid request.\\n\\n"sha" wasn't supplied.``"""
    return APIError(422, f"Invalid request.\n\n{detail}", documentation_url=documentation_url)


def to_sentence(items: list[str]) -> str:
    """Join messages the way GitHub (Rails' ``to_sentence``) does: "a, b, and c"."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"
