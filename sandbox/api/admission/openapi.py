"""OpenAPI v3 value validation with the apiserver's messages (kube-openapi's validate package).

Every failure becomes a :class:`FieldError` exactly as apiextensions-apiserver converts
kube-openapi results: Required, Unsupported value (enum), Too long (maxLength), Too many
(maxItems), Invalid value with ``<path> in body ...`` details for everything else.
"""
from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any

from .errors import (FieldError, go_number, go_value, invalid, not_supported, required, too_long, too_many,
                     type_invalid)
from .schemas.dsl import Schema

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern[str]:
    # Go's RE2 and Python agree on every pattern the schemas use ((?P<name>...) included).
    return re.compile(pattern)


def json_type(value: Any) -> str:
    """The JSON type name go-openapi infers for a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _allowed_types(schema: Schema) -> list[str]:
    if schema.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return [schema["type"]] if "type" in schema else []


def _valid_format(fmt: str, value: str) -> bool:
    if fmt == "byte":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
        return True
    if fmt == "date-time":
        return bool(_RFC3339.match(value))
    return True  # other formats are not enforced by the apiserver for these kinds


def validate(value: Any, schema: Schema, path: str = "") -> list[FieldError]:
    """Validate ``value`` (found at ``path``) against ``schema``; return errors in a stable order."""
    errs: list[FieldError] = []
    _node(value, schema, path, errs)
    return errs


def _node(value: Any, schema: Schema, path: str, errs: list[FieldError]) -> None:
    types = _allowed_types(schema)
    actual = json_type(value)
    if value is None:
        if types and not schema.get("nullable", False):
            errs.append(type_invalid(path, "null", f"{path} in body must be of type {','.join(types)}: \"null\""))
        return
    if types and actual not in types and not (actual == "integer" and "number" in types):
        errs.append(type_invalid(path, actual, f"{path} in body must be of type {','.join(types)}: \"{actual}\""))
        # the type and the enum are separate validators: both report a wrong-typed value
        if "enum" in schema and value not in schema["enum"]:
            errs.append(not_supported(path, value, [str(v) for v in schema["enum"]]))
        return
    _combinators(value, schema, path, errs)
    if isinstance(value, str):
        _string(value, schema, path, errs)
    elif actual in ("integer", "number"):
        _number(value, schema, path, errs)
    if "enum" in schema and value not in schema["enum"]:
        errs.append(not_supported(path, value, [str(v) for v in schema["enum"]]))
    if isinstance(value, list):
        _array(value, schema, path, errs)
    elif isinstance(value, dict):
        _object(value, schema, path, errs)


def _string(value: str, schema: Schema, path: str, errs: list[FieldError]) -> None:
    """kube-openapi's string validator reports only the first of maxLength, minLength and pattern that fails (a
    too long value is not also held to its pattern); the format is a validator of its own."""
    length = len(value)
    if "maxLength" in schema and length > schema["maxLength"]:
        errs.append(too_long(path, schema["maxLength"]))
    elif "minLength" in schema and length < schema["minLength"]:
        errs.append(invalid(path, value, f"{path} in body should be at least {schema['minLength']} chars long"))
    elif "pattern" in schema and not _regex(schema["pattern"]).search(value):
        errs.append(invalid(path, value, f"{path} in body should match '{schema['pattern']}'"))
    fmt = schema.get("format")
    if fmt and not _valid_format(fmt, value):
        errs.append(type_invalid(path, value, f'{path} in body must be of type {fmt}: {go_value(value)}'))


def _number(value: int | float, schema: Schema, path: str, errs: list[FieldError]) -> None:
    if "maximum" in schema and value > schema["maximum"]:
        errs.append(invalid(path, value,
                              f"{path} in body should be less than or equal to {go_number(schema['maximum'])}"))
    if "minimum" in schema and value < schema["minimum"]:
        errs.append(invalid(path, value,
                              f"{path} in body should be greater than or equal to {go_number(schema['minimum'])}"))


def _array(value: list, schema: Schema, path: str, errs: list[FieldError]) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append(too_many(path, len(value), schema["maxItems"]))
    if "minItems" in schema and len(value) < schema["minItems"]:
        errs.append(invalid(path, len(value), f"{path} in body should have at least {schema['minItems']} items"))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _node(item, items, f"{path}[{i}]", errs)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: dict, schema: Schema, path: str, errs: list[FieldError]) -> None:
    # kube-openapi's object validator: additional properties, then the properties, then `required`
    props: dict[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, item in value.items():
            if key not in props:
                _node(item, extra, _child(path, key), errs)
    for key, prop in props.items():
        if key in value:
            _node(value[key], prop, _child(path, key), errs)
    for key in schema.get("required", []):
        if key not in value:
            errs.append(required(_child(path, key)))


def _combinators(value: Any, schema: Schema, path: str, errs: list[FieldError]) -> None:
    """oneOf / not (value validations); rendered as the field-less errors kube-openapi returns."""
    if "oneOf" in schema:
        results = [validate(value, branch, path) for branch in schema["oneOf"]]
        valid = sum(1 for r in results if not r)
        if valid != 1:
            found = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
            errs.append(invalid("<nil>", "", f'"{path}" must validate one and only one schema (oneOf). {found}'))
            if valid == 0:
                errs.extend(min(results, key=len))
    if "not" in schema and not validate(value, schema["not"], path):
        errs.append(invalid("<nil>", "", f'"{path}" must not validate the schema (not)'))
    if "anyOf" in schema and not schema.get("x-kubernetes-int-or-string"):
        if all(validate(value, branch, path) for branch in schema["anyOf"]):
            errs.append(invalid("<nil>", "", f'"{path}" must validate at least one schema (anyOf)'))
