"""Structural defaulting: fill ``default`` values and drop nulls the schema does not allow.

Runs after pruning, as the apiserver does while decoding: a missing (or null, when not
nullable) property with a default gets a copy of it, and defaults nest (a defaulted
object is defaulted again inside).
"""
from __future__ import annotations

import copy
from typing import Any

from .schemas.dsl import Schema


def apply_defaults(value: Any, schema: Schema) -> None:
    """Default ``value`` in place against ``schema``."""
    if isinstance(value, dict):
        props: dict[str, Schema] = schema.get("properties", {})
        for key, prop in props.items():
            present = key in value
            if present and value[key] is None and not prop.get("nullable", False):
                del value[key]  # a null for a non-nullable field counts as absent
                present = False
            if not present and "default" in prop:
                value[key] = copy.deepcopy(prop["default"])
        for key, item in value.items():
            if key in props:
                apply_defaults(item, props[key])
            elif isinstance(schema.get("additionalProperties"), dict):
                apply_defaults(item, schema["additionalProperties"])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])
