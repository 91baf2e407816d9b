# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed request of one upload: what ``virtual_image_upload``, the image modules' ``source.upload`` and
catalog ``path`` entries ask the upload runner to do."""

from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind

UPLOAD_ENDPOINTS = ("auto", "external", "in_cluster")


class UploadOptions(NamedTuple):
    """What one upload needs to know besides the image."""

    path: str
    checksum: Dict[str, str]
    endpoint: str = "auto"
    upload_url: Optional[str] = None
    show_upload_url: bool = False
    validate_certs: bool = True
    ca_cert: Optional[str] = None
    retries: int = 2
    recreate: bool = False
    wait: bool = True
    wait_timeout: float = 1800.0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "UploadOptions":
        """From module parameters (names as in UPLOAD_OPTIONS_SPEC and WAIT_ARG_SPEC)."""
        given = {k: v for k, v in (params.get("checksum") or {}).items() if v}
        return cls(path=params["path"], checksum=given, endpoint=params.get("endpoint") or "auto",
                   upload_url=params.get("upload_url"), show_upload_url=bool(params.get("show_upload_url")),
                   validate_certs=params.get("upload_validate_certs") is not False,
                   ca_cert=params.get("upload_ca_cert"),
                   retries=params["retries"] if params.get("retries") is not None else 2,
                   recreate=bool(params.get("recreate")), wait=params.get("wait") is not False,
                   wait_timeout=float(params["wait_timeout"] if params.get("wait_timeout") is not None else 1800))

    @classmethod
    def from_source_upload(cls, block: Mapping[str, Any], recreate: bool, wait: bool,
                           wait_timeout: float) -> "UploadOptions":
        """From the image modules' ``source.upload`` block; the image's own options decide recreate and wait."""
        given = {key: value for key, value in block.items() if value is not None}
        return cls.from_params(dict(given, recreate=recreate, wait=wait, wait_timeout=wait_timeout))


class UploadRequest(NamedTuple):
    """One run of virtual_image_upload: the image to send into, and how."""

    kind: Kind
    name: str
    namespace: Optional[str]
    options: UploadOptions
