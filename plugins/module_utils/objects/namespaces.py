# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A task's namespace exists: said first, in the user's words, instead of as a raw 404 from whatever request
happens to need it (or, for an info module, as an empty list that looks like "nothing there")."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError

NAMESPACE_PATH = "/api/v1/namespaces/%s"


def require_namespace(client: Client, namespace: str, option: str = "namespace") -> None:
    """Refuse a namespace that does not exist, before any write. When that cannot be known (a user who may not read
    namespaces, a server without the core API) the task goes on: its own requests then say what they can."""
    if client.exists(NAMESPACE_PATH % namespace) is False:
        raise ValidationError("%s: namespace %s does not exist; create it first (kind: Namespace) or name an existing "
                              "one; nothing was written" % (option, namespace))
