# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""virtual_image and cluster_virtual_image: one module class for the two kinds (a module file cannot import
another module file, so the class both share lives here)."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import (
    CollectionModule, source_checksum_blocks,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import image_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.runner import ImageRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options import args
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import (
    ChecksumBlock, manifest_checksum_blocks,
)


class ImageModule(CollectionModule):
    """virtual_image and cluster_virtual_image."""

    mutually_exclusive = (("definition", "src"),)

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    def argument_spec(self) -> Dict[str, Any]:
        return args.image_arg_spec(cluster=not self.kind.namespaced)

    def request(self, params: Dict[str, Any]) -> Any:
        options = ImageOptions.from_params(params)
        self.sums.resolve(manifest_checksum_blocks(options.definition, "definition."))
        return image_request(options, self.kind)

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return source_checksum_blocks(params)

    def label(self, request: Any) -> str:
        return request.ref

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return ImageRunner(client, request, tracker).run()
