"""What a webhook sees, and helpers every webhook shares."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..types import Lister, Lookup


class Denied(Exception):
    """The webhook rejects the request with this message (warnings still go out)."""

    def __init__(self, message: str, warnings: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.warnings = warnings or []


@dataclass(frozen=True)
class Review:
    """The AdmissionReview request as a webhook gets it."""

    operation: str
    new: dict
    old: dict | None
    lookup: Lookup | None = None
    lister: Lister | None = None

    @property
    def namespace(self) -> str:
        return self.new.get("metadata", {}).get("namespace", "")

    @property
    def name(self) -> str:
        return self.new.get("metadata", {}).get("name", "")

    def spec(self) -> dict:
        return self.new.get("spec") or {}

    def old_spec(self) -> dict:
        return (self.old or {}).get("spec") or {}

    def phase(self) -> str:
        return (self.new.get("status") or {}).get("phase", "")

    def ready(self) -> bool:
        """The Ready condition is True."""
        for cond in (self.new.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                return cond.get("status") == "True"
        return False

    def generation_changed(self) -> bool:
        """Anything but metadata and status changed: the apiserver bumped metadata.generation."""
        return _non_meta(self.new) != _non_meta(self.old or {})


def _non_meta(obj: dict) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def get(d: dict, *path: str) -> Any:
    """A nested value or None (Go's zero value for a nil pointer chain)."""
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)  # type: ignore[assignment]
    return d


def dot_in_name(kind: str, name: str) -> str:
    return f"the {kind} name {_quote(name)} is invalid: '.' is forbidden, allowed name symbols are [0-9a-zA-Z-]"


def dot_in_name_warning(kind: str, name: str, what: str, leading_space: bool = False) -> str:
    prefix = " " if leading_space else ""
    return (f"{prefix}the {kind} name {_quote(name)} is invalid as it contains now forbidden symbol '.', allowed "
            f"symbols for name are [0-9a-zA-Z-]. Create another {what} with valid name to avoid problems with "
            f"future updates.")


def _quote(s: str) -> str:
    """Go's %q for the names we print."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
