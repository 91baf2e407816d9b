"""The order the apiserver admits a custom resource write in, for the kinds we own.

decode (prune unknown fields, report them per fieldValidation; apply defaults)
-> validation (OpenAPI schema, then CEL rules; on UPDATE ratcheted) = 422 Invalid
-> validating webhook of the platform = 403 from ``admission webhook "<name>" denied the request``

The server has already done the generic part (see sandbox/api/ops.py): ObjectMeta checks, a
generated name, the namespace from the URL, the /status split (status reset on main-resource
writes, everything but status copied from the old object on /status writes) and generation.
"""
from __future__ import annotations

import copy
import dataclasses

from .cel import ABSENT, check as cel_check
from .defaults import apply_defaults
from .errors import (bad_request_status, go_json, invalid, invalid_status, patch_invalid_status,
                     typed_patch_status, webhook_denied_status)
from .openapi import validate as schema_validate
from .prune import prune
from .ratchet import ratchet
from .schemas import KINDS, compiled
from .types import AdmissionError, AdmissionRequest, AdmissionResult
from .webhooks import WEBHOOKS, Denied, Review

GROUP = "virtualization.deckhouse.io"
# Schema errors after which the apiserver skips the CEL rules (they assume a well-formed object).
_BLOCKING = frozenset({"FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong",
                       "FieldValueTooMany", "FieldValueTypeInvalid"})
_CEL_SKIPPED = ("some validation rules were not checked because the object was invalid; "
                "correct the existing errors to complete validation")


def admit(req: AdmissionRequest) -> AdmissionResult:
    """Admit one write; raise AdmissionError with the apiserver's Status on rejection."""
    if req.operation == "DELETE" or req.obj is None or req.kind not in KINDS:
        # nothing to check: deletes pass (no webhook listens), other kinds are not modelled here
        return AdmissionResult(obj=copy.deepcopy(req.obj if req.obj is not None else req.old_obj or {}))
    schema = compiled(req.kind, req.platform)
    obj = copy.deepcopy(req.obj)
    warnings = _decode(obj, schema, req)
    _validate(obj, schema, req)
    if req.subresource is None:
        warnings += _webhook(obj, req)
    return AdmissionResult(obj=obj, warnings=warnings)


def _decode(obj: dict, schema: dict, req: AdmissionRequest) -> list[str]:
    """Prune and default as the decoder does; report what strict decoding found per
    fieldValidation: Ignore says nothing, Warn returns one warning per finding (body duplicates
    first, then the unknown fields, sorted), Strict refuses them all in one message."""
    patched = go_json(obj) if req.write == "patch" else ""
    unknown = prune(obj, schema)
    apply_defaults(obj, schema)
    messages = list(req.decode_errors) + [f'unknown field "{path}"' for path in unknown]
    if not messages or req.field_validation == "Ignore":
        return []
    if req.field_validation == "Strict":
        detail = f"strict decoding error: {', '.join(messages)}"
        if req.write == "patch":
            raise AdmissionError(patch_invalid_status(patched, detail))
        raise AdmissionError(bad_request_status(
            f'{req.kind} in version "{req.version}" cannot be handled as a {req.kind}: {detail}'))
    return messages


def check_apply(kind: str, platform: str, config: dict) -> None:
    """Server-side apply: a field the schema lacks, or a value of the wrong JSON type, fails the typed
    conversion of the applied configuration (500, whatever fieldValidation says); raise AdmissionError
    with that Status."""
    if kind not in KINDS or not isinstance(config, dict):
        return
    schema = compiled(kind, platform)
    unknown = prune(copy.deepcopy(config), schema)
    problems: list[tuple[str, str]] = []
    for key, value in config.items():
        prop = (schema.get("properties") or {}).get(key)
        if key not in ("apiVersion", "kind", "metadata") and isinstance(prop, dict):
            _typed(value, prop, key, problems)
    if unknown or problems:
        md = config.get("metadata") or {}
        raise AdmissionError(typed_patch_status(md.get("namespace", ""), md.get("name", ""),
                                                str(config.get("apiVersion", "")), kind, unknown, problems))


def _go_v(value: object) -> str:
    """Go's %v of a decoded JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    return str(value)


_GO_TYPES = {bool: "bool", str: "string", dict: "map[string]interface {}", list: "[]interface {}"}


def _typed(value: object, schema: dict, path: str, out: list[tuple[str, str]]) -> None:
    """structured-merge-diff's type check of an applied value (the messages of typed/validate.go)."""
    if value is None:
        return
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, (dict, list)):
            out.append((path, f"expected any scalar, got &{{{_go_v(value)}}}"))
        return
    if kind == "object":
        if not isinstance(value, dict):
            out.append((path, f"expected map, got &{{{_go_v(value)}}}"))
            return
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            child = props.get(key, extra if isinstance(extra, dict) else None)
            if isinstance(child, dict):
                _typed(item, child, f"{path}.{key}", out)
    elif kind == "array":
        if not isinstance(value, list):
            out.append((path, f"expected list, got &{{{_go_v(value)}}}"))
            return
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                _typed(item, schema["items"], f"{path}[{i}]", out)
    elif kind == "boolean" and not isinstance(value, bool):
        out.append((path, f"expected boolean, got &{{{_go_v(value)}}}"))
    elif kind == "string" and not isinstance(value, str):
        out.append((path, f"expected string, got &value.valueUnstructured{{Value:{_go_v(value)}}}"))
    elif kind in ("integer", "number") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        out.append((path, f"expected numeric (int or float), got {_GO_TYPES.get(type(value), type(value).__name__)}"))


def _validate(obj: dict, schema: dict, req: AdmissionRequest) -> None:
    old = req.old_obj if req.operation == "UPDATE" else None
    found = _status_errors(obj, schema) if req.subresource == "status" else schema_validate(obj, schema)
    errs = ratchet(found, obj, old)
    if any(e.type in _BLOCKING for e in errs):
        if _has_rules(schema):     # a schema without CEL rules has no validator to skip
            errs.append(invalid("<nil>", None, _CEL_SKIPPED))
    else:
        errs += ratchet(cel_check(obj, schema, ABSENT if old is None else old), obj, old)
    if errs:
        name = (obj.get("metadata") or {}).get("name", "")
        raise AdmissionError(invalid_status(req.kind, req.group or GROUP, name, errs))


def _status_errors(obj: dict, schema: dict) -> list:
    """A /status write validates only the status, against the status schema as its own root: the
    messages name fields relative to it (`phase in body must be of type string`), the causes' fields
    carry the `status.` prefix."""
    status_schema = (schema.get("properties") or {}).get("status")
    if "status" not in obj or not isinstance(status_schema, dict):
        return []
    out = []
    for e in schema_validate(obj["status"], status_schema):
        if e.field.startswith("<"):
            out.append(e)
        else:
            out.append(dataclasses.replace(e, field="status" + ("" if not e.field or e.field.startswith("[")
                                                                else ".") + e.field))
    return out


def _has_rules(schema: dict) -> bool:
    """Whether any node of the schema carries x-kubernetes-validations."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if node.get("x-kubernetes-validations"):
            return True
        stack.extend(v for v in (node.get("properties") or {}).values() if isinstance(v, dict))
        stack.extend(node[k] for k in ("items", "additionalProperties") if isinstance(node.get(k), dict))
    return False


def _webhook(obj: dict, req: AdmissionRequest) -> list[str]:
    hook = WEBHOOKS.get(req.kind)
    if hook is None or req.operation not in hook.operations:
        return []
    try:
        return hook.check(Review(req.operation, obj, req.old_obj, req.lookup, req.lister))
    except Denied as denial:
        error = AdmissionError(webhook_denied_status(hook.name, denial.message))
        error.warnings = denial.warnings
        raise error from None
