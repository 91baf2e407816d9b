"""Field errors and ``kind: Status`` bodies in the exact form the Kubernetes apiserver renders them.

Messages follow k8s.io/apimachinery ``field.Error`` (``<field>: <Type>: <value>: <detail>``),
``apierrors.NewInvalid`` (422), ``NewBadRequest`` (400) and the admission plugin's webhook
denial (``admission webhook "<name>" denied the request: <msg>``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The rendered value for "no value": Kubernetes 1.30 (the version the sandbox reports) quotes it.
NULL = "null"
OMIT = object()  # the value is left out of the message (field.TooMany with unknown count)

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
TYPE_INVALID = "FieldValueTypeInvalid"
FORBIDDEN = "FieldValueForbidden"

_TITLES = {
    REQUIRED: "Required value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    TYPE_INVALID: "Invalid value",
    FORBIDDEN: "Forbidden",
}
# Error types whose body never shows the value.
_VALUELESS = {REQUIRED, FORBIDDEN, TOO_LONG}


def go_value(value: Any) -> str:
    """Render a bad value the way field.Error does: strings quoted, numbers/bools bare."""
    if value is None:
        return json.dumps(NULL)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    # maps and slices print as Go's %#v; a JSON rendering is the closest stable form
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def go_number(value: int | float) -> str:
    """Go's %v for float64/int64 (1 not 1.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class FieldError:
    """One field-level validation error (k8s.io/apimachinery/pkg/util/validation/field.Error)."""

    type: str
    field: str
    value: Any = ""
    detail: str = ""

    def body(self) -> str:
        if self.type in _VALUELESS or self.value is OMIT:
            s = _TITLES[self.type]
        else:
            s = f"{_TITLES[self.type]}: {go_value(self.value)}"
        if self.detail:
            s += f": {self.detail}"
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, field, "", detail)


def invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(INVALID, field, value, detail)


def not_supported(field: str, value: Any, allowed: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(json.dumps(v) for v in allowed) if allowed else ""
    return FieldError(NOT_SUPPORTED, field, value, detail)


def too_long(field: str, max_len: int) -> FieldError:
    return FieldError(TOO_LONG, field, "", f"may not be longer than {max_len}")


def too_many(field: str, actual: int, max_items: int) -> FieldError:
    return FieldError(TOO_MANY, field, actual, f"must have at most {max_items} items")


def type_invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(TYPE_INVALID, field, value, detail)


def aggregate(errs: list[FieldError]) -> str:
    """utilerrors.Aggregate.Error(): one message as is, several as ``[a, b]``, duplicates dropped."""
    msgs: list[str] = []
    for e in errs:
        m = str(e)
        if m not in msgs:
            msgs.append(m)
    return msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def invalid_status(kind: str, group: str, name: str, errs: list[FieldError]) -> dict:
    """apierrors.NewInvalid: 422 with one cause per field error."""
    causes = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errs]
    return _status(
        422,
        "Invalid",
        f'{kind}.{group} "{name}" is invalid: {aggregate(errs)}',
        {"name": name, "group": group, "kind": kind, "causes": causes},
    )


def bad_request_status(message: str) -> dict:
    """apierrors.NewBadRequest: 400 without details."""
    return _status(400, "BadRequest", message)


def webhook_denied_status(webhook: str, message: str) -> dict:
    """A validating webhook's denial as the apiserver relays it (controller-runtime answers 403)."""
    return _status(403, "Forbidden", f'admission webhook "{webhook}" denied the request: {message}')


def go_quote(text: str) -> str:
    """Go's %q of a string (the closest stable form: JSON string escaping, non-ASCII kept)."""
    return json.dumps(text, ensure_ascii=False)


def go_json(obj: Any) -> str:
    """encoding/json of an unstructured object: keys sorted, compact, <>& escaped as Go does."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def patch_invalid_status(patched_json: str, detail: str) -> dict:
    """A merge/JSON patch whose result fails strict decoding: apierrors.NewInvalid with an empty
    GroupKind and name and one field error on `patch` (handlers/patch.go), so 422 Invalid."""
    body = f"Invalid value: {go_quote(patched_json)}: {detail}"
    return _status(422, "Invalid", f' "" is invalid: patch: {body}',
                   {"causes": [{"reason": INVALID, "message": body, "field": "patch"}]})


def typed_patch_status(namespace: str, name: str, api_version: str, kind: str, paths: list[str],
                       problems: list[tuple[str, str]] | None = None) -> dict:
    """Server-side apply of a configuration its schema does not type: the field manager cannot build
    the typed patch object. kube-apiserver returns this plain error (no reason) as 500, whatever the
    fieldValidation directive (structured-merge-diff's ValidationErrors wording): `paths` the schema
    lacks (`field not declared in schema`), `problems` other (path, message) findings; by path."""
    found = [(p, "field not declared in schema") for p in paths] + list(problems or [])
    errs = [f".{p}: {msg}" for p, msg in sorted(found, key=lambda pm: pm[0])]
    text = errs[0] if len(errs) == 1 else "errors:\n" + "\n".join("  " + e for e in errs)
    group, _, version = api_version.rpartition("/")
    gvk = f"{group}/{version}, Kind={kind}"
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": f"failed to create typed patch object ({namespace}/{name}; {gvk}): {text}",
                            "code": 500}
    return body
