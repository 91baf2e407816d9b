"""`kind: Status` errors exactly as kube-apiserver words them; raise ApiError anywhere in a handler."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer; `status` is the full Status body, `headers` extra response headers."""

    def __init__(self, status: dict[str, Any], headers: dict[str, str] | None = None,
                 warnings: list[str] | None = None) -> None:
        super().__init__(status.get("message", ""))
        self.status = status
        self.headers = headers or {}
        self.warnings = warnings or []       # sent as Warning headers with the error

    @property
    def code(self) -> int:
        return int(self.status["code"])


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def qualified(resource: str, group: str) -> str:
    """`virtualimages.virtualization.deckhouse.io`, or just `namespaces` for the core group."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, resource: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name} if name else {}     # Status details omit an empty name
    if group:
        d["group"] = group
    d["kind"] = resource
    return d


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(status_body(404, "NotFound", f'{qualified(resource, group)} "{name}" not found',
                                _details(name, group, resource)))


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(status_body(409, "AlreadyExists",
                                f'{qualified(resource, group)} "{name}" already exists',
                                _details(name, group, resource)))


def conflict(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(status_body(409, "Conflict",
                                f'Operation cannot be fulfilled on {qualified(resource, group)} '
                                f'"{name}": {why}', _details(name, group, resource)))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(kind: str, group: str, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 Invalid; each cause is {"reason", "message", "field"} as the real server builds them."""
    qual_kind = f"{kind}.{group}" if group else kind
    msgs = list(dict.fromkeys(f'{c["field"]}: {c["message"]}' for c in causes))   # the message shows each once
    joined = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    details = _details(name, group, kind)
    details["causes"] = causes
    return ApiError(status_body(422, "Invalid", f'{qual_kind} "{name}" is invalid: {joined}', details))


def cause(field: str, reason: str, message: str) -> dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def bad_request(message: str) -> ApiError:
    return ApiError(status_body(400, "BadRequest", message))


def forbidden(resource: str, group: str, name: str, message: str) -> ApiError:
    subject = f'{qualified(resource, group)} "{name}"' if name else qualified(resource, group)
    return ApiError(status_body(403, "Forbidden", f"{subject} is forbidden: {message}",
                                _details(name, group, resource)))


def unauthorized() -> ApiError:
    return ApiError(status_body(401, "Unauthorized", "Unauthorized"))


def method_not_allowed(method: str = "") -> ApiError:
    return ApiError(status_body(405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource"))


def unsupported_media(accepted: list[str]) -> ApiError:
    return ApiError(status_body(415, "UnsupportedMediaType",
                                "the body of the request was in an unknown format - accepted media "
                                "types include: " + ", ".join(accepted)))


def gone(message: str) -> ApiError:
    return ApiError(status_body(410, "Expired", message))


def not_found_path() -> ApiError:
    return ApiError(status_body(404, "NotFound", "the server could not find the requested resource",
                                {}))


def internal(message: str) -> ApiError:
    return ApiError(status_body(500, "InternalError", f"Internal error occurred: {message}",
                                {"causes": [{"message": message}]}))


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(status_body(429, "TooManyRequests", "Too many requests, please try again later.",
                                {"retryAfterSeconds": retry_after}),
                    headers={"Retry-After": str(retry_after)})
