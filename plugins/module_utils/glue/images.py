# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The run virtual_image and cluster_virtual_image share (a module file cannot import another module file, so
the part the two have in common lives here; each module file holds its options and its kind)."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import (
    CollectionModule, source_checksum_blocks,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import (
    ImageRequest, image_request,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.runner import ImageRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import (
    ChecksumBlock, manifest_checksum_blocks,
)


class ImageModule(CollectionModule[ImageRequest]):
    """One image of ``kind``: typed options or a whole definition, made, changed or deleted and waited for."""

    kind: Kind
    mutually_exclusive = (("definition", "src"),)

    def request(self, params: Dict[str, Any]) -> ImageRequest:
        options = ImageOptions.from_params(params)
        definition = self.sums.resolved(options.definition,
                                        lambda manifest: manifest_checksum_blocks(manifest, "definition."))
        return image_request(options._replace(definition=definition), self.kind)

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return source_checksum_blocks(params)

    def label(self, request: ImageRequest) -> str:
        return request.ref

    def execute(self, client: Client, request: ImageRequest, tracker: Tracker) -> Dict[str, Any]:
        return ImageRunner(client, request, tracker).run()
