# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed request the image runner takes: options checked, manifest and pull Secret built, once.

Built at the glue layer (from module parameters) or by capture (from its own options); the runner never sees
module parameters, so no caller has to fake them.
"""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import (
    build_manifest, build_pull_secret,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import validate


class ImageRequest(NamedTuple):
    """Ensure one image present (``manifest`` set) or absent (``manifest`` None)."""

    kind: Kind
    name: str
    namespace: Optional[str]
    manifest: Optional[Dict[str, Any]]
    pull_secret: Optional[Dict[str, Any]] = None
    upload: Optional[UploadOptions] = None
    recreate: bool = False
    force: bool = False      # state: absent: delete even while something uses the image
    how_to_recreate: str = "recreate: true"
    wait: bool = True
    wait_timeout: float = 1800.0
    option_style: str = "module"  # how messages name a field: typed options or "definition"

    @property
    def ref(self) -> str:
        """``VirtualImage ns/name``, as messages name it."""
        return self.kind.ref(self.name, self.namespace)


def image_request(options: ImageOptions, kind: Kind) -> ImageRequest:
    """Check every option (``source.upload``'s transfer options included), then build what the runner writes; no request is sent."""
    validate(options, kind)
    upload = None
    block = (options.source or {}).get("upload") if options.present else None
    if block is not None:
        upload = UploadOptions.from_source_upload(block, options.recreate, options.wait, options.wait_timeout)
    namespace = options.namespace if kind.namespaced else None
    return ImageRequest(
        kind=kind, name=str(options.name), namespace=namespace,
        manifest=build_manifest(options, kind) if options.present else None,
        pull_secret=build_pull_secret(options, kind) if options.present else None,
        upload=upload, recreate=options.recreate, force=options.force, wait=options.wait,
        wait_timeout=float(options.wait_timeout or 0),
        option_style="definition" if options.definition is not None else "module")
