"""The data passed between the API server and admission."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

# (kind, namespace, name) -> the stored object or None; namespace is "" for cluster-scoped kinds.
Lookup = Callable[[str, str, str], "dict | None"]
# (kind, namespace) -> the stored objects of that kind; namespace is "" for cluster-scoped kinds.
Lister = Callable[[str, str], "list[dict]"]


@dataclass
class AdmissionRequest:
    """One write as the API server sees it, after merging the patch and before storing."""

    operation: str  # "CREATE" | "UPDATE" | "DELETE"
    kind: str
    group: str
    version: str
    obj: dict | None
    old_obj: dict | None
    subresource: str | None = None  # None or "status"
    field_validation: str = "Warn"  # "Strict" | "Warn" | "Ignore"
    dry_run: bool = False
    user: str = "admin"
    lookup: Lookup | None = None  # optional: lets webhook rules that read other objects run
    lister: Lister | None = None  # optional: lets webhook rules that search a kind (the default class) run
    platform: str = "dev"  # the platform line served (sandbox.platform): which schemas apply
    # How the object arrived: "body" (create/update: a decoding error is 400 BadRequest) or
    # "patch" (merge/JSON patch: the patched object is refused as 422 Invalid `patch: ...`).
    write: str = "body"
    # Strict-decoding findings of the request body itself (`duplicate field "spec.x"`, and for JSON
    # patches `json patch unknown field "[0].foo"`), reported before the unknown fields.
    decode_errors: list[str] = field(default_factory=list)


@dataclass
class AdmissionResult:
    """The object to store and the warnings to send as ``Warning`` headers."""

    obj: dict
    warnings: list[str] = field(default_factory=list)


class AdmissionError(Exception):
    """A rejected write; ``status`` is the full ``kind: Status`` response body."""

    def __init__(self, status: dict, warnings: list[str] | None = None) -> None:
        super().__init__(status.get("message", ""))
        self.status = status
        self.warnings: list[str] = warnings or []  # Warning headers to send with the error
