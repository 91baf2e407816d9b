"""``x-kubernetes-validations``: CEL rules evaluated as the apiserver does, with cel-python.

A failed rule is reported as ``field.Invalid(<node path>, "<schema type>", <message>)``.
Rules that read ``oldSelf`` (transition rules) run only on UPDATE and only where the old
object has a value at the same path; list items are not correlated (no map-lists here).
Property names that are CEL reserved words are exposed as ``__name__``, as Kubernetes does.
On UPDATE an unchanged subtree (below the root) is not evaluated at all: ratcheting would drop
whatever it reported, and skipping it keeps status writes cheap.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import celpy
from celpy import celtypes

from .errors import FieldError, invalid
from .schemas.dsl import Schema

ABSENT = object()  # "no old value": transition rules are skipped
_RESERVED = frozenset({
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
    "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
})
_OLD_SELF = re.compile(r"\boldSelf\b")


def escape(name: str) -> str:
    """Kubernetes' escaping of a property name for CEL."""
    if name in _RESERVED:
        return f"__{name}__"
    return (name.replace("__", "__underscores__").replace(".", "__dot__")
            .replace("-", "__dash__").replace("/", "__slash__"))


def _replace(s: celtypes.Value, old: celtypes.Value, new: celtypes.Value) -> celtypes.StringType:
    """strings.replace from the Kubernetes CEL library."""
    return celtypes.StringType(str(s).replace(str(old), str(new)))


_FUNCTIONS = {"replace": _replace}
_ENV = celpy.Environment()


@lru_cache(maxsize=None)
def _program(expr: str) -> celpy.Runner:
    return _ENV.program(_ENV.compile(expr), functions=_FUNCTIONS)


def to_cel(value: Any, schema: Schema) -> celtypes.Value:
    """JSON -> CEL, escaping declared property names."""
    if isinstance(value, dict):
        props: dict[str, Schema] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in value.items():
            if key in props:
                out[celtypes.StringType(escape(key))] = to_cel(item, props[key])
            else:
                out[celtypes.StringType(key)] = to_cel(item, extra if isinstance(extra, dict) else {})
        return celtypes.MapType(out)
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return celtypes.ListType([to_cel(v, items) for v in value])
    return celpy.json_to_cel(value)


def _schema_type(schema: Schema) -> str:
    return schema.get("type", "")


def _eval_error(exc: Exception, message: str) -> str:
    args = exc.args
    if len(args) > 1 and args[1] is KeyError:
        key = str(args[0]).rsplit(":", 1)[-1].strip().strip("'")
        return f"no such key: {key} evaluating rule: {message}"
    return f"{args[0] if args else exc} evaluating rule: {message}"


def check(value: Any, schema: Schema, old: Any = ABSENT, path: str = "") -> list[FieldError]:
    """Evaluate every rule in ``schema`` against ``value`` (``old`` is the stored value, on UPDATE)."""
    errs: list[FieldError] = []
    _walk(value, schema, old, path, errs)
    return errs


def _walk(value: Any, schema: Schema, old: Any, path: str, errs: list[FieldError]) -> None:
    if path and old is not ABSENT and value == old:
        return  # ratcheting drops every error under an unchanged value: a status write skips the spec's rules
    rules = schema.get("x-kubernetes-validations", [])
    if rules:
        _rules(value, schema, old, path, rules, errs)
    if isinstance(value, dict):
        props: dict[str, Schema] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        old_map = old if isinstance(old, dict) else {}
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            sub = props.get(key) if key in props else (extra if isinstance(extra, dict) else None)
            if sub is not None:
                _walk(item, sub, old_map.get(key, ABSENT), child, errs)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk(item, schema["items"], ABSENT, f"{path}[{i}]", errs)


def _rules(value: Any, schema: Schema, old: Any, path: str, rules: list[dict], errs: list[FieldError]) -> None:
    activation: dict[str, celtypes.Value] = {"self": to_cel(value, schema)}
    if old is not ABSENT:
        activation["oldSelf"] = to_cel(old, schema)
    for r in rules:
        if _OLD_SELF.search(r["rule"]) and old is ABSENT:
            continue
        message = r.get("message", "").strip() or f"failed rule: {r['rule'].strip()}"
        try:
            result = _program(r["rule"]).evaluate(activation)
        except celpy.CELEvalError as exc:
            errs.append(invalid(path, _schema_type(schema), _eval_error(exc, message)))
            continue
        if isinstance(result, celpy.CELEvalError):
            errs.append(invalid(path, _schema_type(schema), _eval_error(result, message)))
        elif not bool(result):
            errs.append(invalid(path, _schema_type(schema), message))


def compile_all(schema: Schema) -> int:
    """Compile every rule in ``schema`` now (the first compile costs ~0.5 s); return how many."""
    count = 0
    stack = [schema]
    while stack:
        node = stack.pop()
        for r in node.get("x-kubernetes-validations", []):
            _program(r["rule"])
            count += 1
        stack.extend((node.get("properties") or {}).values())
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                stack.append(node[key])
    return count
