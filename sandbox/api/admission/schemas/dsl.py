"""A compact way to write structural OpenAPI v3 schemas (plain dicts, as a CRD holds them).

The helpers only build dicts; every rule about what the keywords mean lives in the
validator, the pruner and the defaulter.
"""
from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def rule(expr: str, message: str) -> dict[str, str]:
    """One ``x-kubernetes-validations`` entry."""
    return {"rule": expr, "message": message}


def _extras(schema: Schema, *, default: Any = None, rules: list[dict] | None = None,
            nullable: bool = False) -> Schema:
    if default is not None:
        schema["default"] = default
    if rules:
        schema["x-kubernetes-validations"] = list(rules)
    if nullable:
        schema["nullable"] = True
    return schema


def string(*, enum: list[str] | None = None, pattern: str | None = None, min_len: int | None = None,
           max_len: int | None = None, fmt: str | None = None, default: str | None = None,
           rules: list[dict] | None = None, nullable: bool = False) -> Schema:
    s: Schema = {"type": "string"}
    if enum is not None:
        s["enum"] = list(enum)
    if pattern is not None:
        s["pattern"] = pattern
    if min_len is not None:
        s["minLength"] = min_len
    if max_len is not None:
        s["maxLength"] = max_len
    if fmt is not None:
        s["format"] = fmt
    return _extras(s, default=default, rules=rules, nullable=nullable)


def integer(*, minimum: int | None = None, maximum: int | None = None, fmt: str | None = None,
            default: int | None = None) -> Schema:
    s: Schema = {"type": "integer"}
    if fmt is not None:
        s["format"] = fmt
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    return _extras(s, default=default)


def boolean(*, default: bool | None = None) -> Schema:
    return _extras({"type": "boolean"}, default=default)


def int_or_string(*, pattern: str | None = None) -> Schema:
    s: Schema = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
    if pattern is not None:
        s["pattern"] = pattern
    return s


def array(items: Schema, *, min_items: int | None = None, max_items: int | None = None,
          list_type: str | None = None, rules: list[dict] | None = None) -> Schema:
    s: Schema = {"type": "array", "items": items}
    if min_items is not None:
        s["minItems"] = min_items
    if max_items is not None:
        s["maxItems"] = max_items
    if list_type is not None:
        s["x-kubernetes-list-type"] = list_type
    return _extras(s, rules=rules)


def obj(properties: dict[str, Schema] | None = None, *, required: list[str] | None = None,
        default: Any = None, rules: list[dict] | None = None, **extra: Any) -> Schema:
    """An object with known properties; ``extra`` carries rarely used keywords (oneOf, ...)."""
    s: Schema = {"type": "object"}
    if properties is not None:
        s["properties"] = dict(properties)
    if required:
        s["required"] = list(required)
    s.update(extra)
    return _extras(s, default=default, rules=rules)


def string_map() -> Schema:
    """``map[string]string`` (labels, node selectors)."""
    return {"type": "object", "additionalProperties": {"type": "string"}}


def preserved(properties: dict[str, Schema] | None = None) -> Schema:
    """An object whose unknown fields are kept (used where this project does not model every field)."""
    s = obj(properties)
    s["x-kubernetes-preserve-unknown-fields"] = True
    return s


def resource(spec: Schema, status: Schema, *, spec_required: bool = True) -> Schema:
    """The top-level schema every kind shares: apiVersion, kind, metadata, spec, status."""
    return obj(
        {
            "apiVersion": string(),
            "kind": string(),
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        required=["spec"] if spec_required else None,
    )
