# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin for cluster_virtual_image: the same as virtual_image's."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.action.virtual_image import (  # noqa: F401 pylint: disable=unused-import
    ActionModule,
)
