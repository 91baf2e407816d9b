# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What a kind says in the shared run of one object (runner.py), each with what most kinds want: a kind's runner
sets ``result_key`` (and ``lock`` when its spec locks otherwise than an image's) and overrides the rest where its
platform rules differ. Kept apart from the run so the list of what a kind may change reads on its own."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ImmutableSpec, TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    IMAGE_LOCK, Decision, SpecLock,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import without_managed_fields


class KindRules:
    """The hooks of the shared run; the run (ObjectRunner) provides the attributes annotated here."""

    result_key = ""           # the object's key in results and failures: "image", "disk", "snapshot"
    lock: SpecLock = IMAGE_LOCK
    client: Client
    path: str                 # the object's URL path
    collection: str           # the URL path of its collection

    def shown(self, obj: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
        """The object as results show it: no bookkeeping, no upload URLs (they are credentials)."""
        return redact_image(without_managed_fields(obj))

    def described(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """The kind's own result keys besides the object, its phase and the run's bookkeeping."""
        return {}

    def before_writes(self, wanted: Dict[str, Any], live: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """The last look before any write: ``wanted`` completed with what the user left to the live object, or an
        error for what must not be written."""
        return wanted

    def write_first(self) -> bool:
        """Write what the object needs before it exists (an image's pull Secret); True when something was written."""
        return False

    def create(self, wanted: Dict[str, Any]) -> Dict[str, Any]:
        """POST the object."""
        return self.client.create(self.collection, wanted)

    def patch(self, patch: Dict[str, Any]) -> Dict[str, Any]:
        """PATCH the object."""
        return self.client.patch(self.path, patch)

    def refusal(self, decision: Decision, live: Mapping[str, Any]) -> TaskError:
        """The error of a change the platform rejects (decide's REFUSE)."""
        return ImmutableSpec(decision.message, differing_fields=decision.differing, conditions=cond.conditions(live),
                             **{self.result_key: live})

    def check_recreate(self, live: Mapping[str, Any], differing: List[str]) -> None:
        """Raise when ``live`` must not be recreated although its spec differs (by default always allowed)."""

    def remake_reason(self, live: Mapping[str, Any]) -> str:
        """Why ``live`` is made anew although its spec is as wanted ("" when it is not)."""
        return ""

    def ready_goal(self) -> str:
        """The waiter goal of ``wait``."""
        return "ready"

    def refuse_delete(self, live: Mapping[str, Any]) -> List[str]:
        """Before any write of ``state: absent``: raise when ``live`` must not be deleted; else the users that hold
        it (a forced delete), which ``absent_goal`` and ``deleted`` are given."""
        return []

    def absent_goal(self, users: List[str]) -> Any:
        """What "deleted" means for this kind (the waiter goal)."""
        return "absent"

    def after_delete(self, live: Mapping[str, Any]) -> None:
        """Delete what the run owns with the object (an image's pull Secret)."""

    def deleted(self, result: Dict[str, Any], users: List[str]) -> Dict[str, Any]:
        """The result of a delete, with what the kind says of an object still held."""
        return result
