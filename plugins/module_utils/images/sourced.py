# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What the run of an object filled from a data source adds to the shared run (objects/runner.py): images and
disks have the same ``source`` blocks, so the same pull Secret, the same ``source.upload`` (created without
waiting, then the upload runner streams the file into it and waits), the same fields a cluster may lack, and the
same words added to a failed import.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Protocol, TypeVar

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.failure import explain_failure
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import (
    UPLOAD_CHECKSUM, align_upload_checksum, create_image, refuse_unknown,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.secret import (
    delete_owned_secret, ensure_secret, own_secret,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.runner import (
    REPORTED_AS, ObjectRequest, ObjectRunner, named,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.storage_classes import (
    check_storage_class_exists,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import (
    IMAGE_UPLOAD, UploadRules, UploadRunner,
)


class SourcedRequest(ObjectRequest, Protocol):
    """What the run of an image or a disk reads besides ObjectRequest (ImageRequest and DiskRequest have these)."""

    @property
    def pull_secret(self) -> Optional[Dict[str, Any]]: ...

    @property
    def upload(self) -> Optional[UploadOptions]: ...

    @property
    def force(self) -> bool: ...

    @property
    def option_style(self) -> str: ...  # how messages name a field: typed options or "definition"


S = TypeVar("S", bound=SourcedRequest)


class SourcedRunner(ObjectRunner[S]):
    """The run of an image or a disk; the kind sets ``result_key``, ``summarize`` and its rules."""

    upload_rules: UploadRules = IMAGE_UPLOAD

    def __init__(self, client: Client, request: S, tracker: Tracker) -> None:
        super().__init__(client, request, tracker)
        self.platform_checks_upload = True  # False once the cluster is known to lack the upload's checksum field

    def summarize(self, obj: Mapping[str, Any]) -> Dict[str, Any]:
        """The flat ``summary`` of the result, as the kind's info module gives it."""
        raise NotImplementedError

    def described(self, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        return {"progress": cond.progress(obj), "summary": self.summarize(obj) if obj is not None else None}

    def before_writes(self, wanted: Dict[str, Any], live: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """A storage class the write would set exists; an upload's checksum as this cluster stores it (see
        align_upload_checksum)."""
        check_storage_class_exists(self.client, wanted, live)
        if self.request.upload is not None:
            wanted, platform_checks = align_upload_checksum(self.client, self.kind, wanted, live)
            self.platform_checks_upload = platform_checks is not False
        return wanted

    def write_first(self) -> bool:
        secret = self.request.pull_secret
        return ensure_secret(self.client, secret) if secret else False

    def create(self, wanted: Dict[str, Any]) -> Dict[str, Any]:
        """A cluster without the upload checksum field gets the object without it (the module still verifies the
        bytes it sends); any other field it lacks is FieldsUnknown."""
        obj, self.platform_checks_upload = create_image(self.client, self.kind, wanted, self.request.option_style,
                                                        self.request.upload is not None)
        return obj

    def patch(self, patch: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return super().patch(patch)
        except ApiError as exc:
            refuse_unknown(exc, self.kind, self.request.option_style)
            raise

    def wait_ready(self, obj: Mapping[str, Any]) -> Any:
        """A failed import's message with what it leaves out (images/failure.py)."""
        try:
            return super().wait_ready(obj)
        except ObjectFailed as exc:
            failed = exc.details.get(REPORTED_AS) or {}
            raise ObjectFailed(explain_failure(failed, exc.msg), **exc.details) from None

    def after_write(self, obj: Any, changed: bool) -> Dict[str, Any]:
        """The pull Secret owned by the object; then ``source.upload`` streamed, or the wait."""
        secret = self.request.pull_secret
        if secret and not self.check_mode:
            own_secret(self.client, secret, obj, self.name)
        if self.request.upload is not None:
            return self._upload(obj, changed, self.request.upload)
        return super().after_write(obj, changed)

    def _upload(self, obj: Mapping[str, Any], changed: bool, upload: UploadOptions) -> Dict[str, Any]:
        """Stream ``source.upload.path`` into the object just ensured; the upload's result, with this run's diff
        when this run changed the object."""
        if upload.checksum and not self.platform_checks_upload:
            warn("%s: this cluster's %s API has no %s, so the platform does not verify the checksums given in "
                 "source.upload.checksum; the module verifies the bytes it sends against them (before the last byte)"
                 % (self.request.ref, self.kind.kind, UPLOAD_CHECKSUM))
        result = UploadRunner(self.client, self.kind, self.name, self.namespace, upload, self.tracker,
                              rules=self.upload_rules).run(obj)
        named(result, self.result_key, lambda shown: shown)  # the upload runner has shown it already
        result["changed"] = changed or result["changed"]
        if changed:
            result["diff"] = self.diff
        result["duration"] = self.duration()
        return result

    def after_delete(self, live: Mapping[str, Any]) -> None:
        delete_owned_secret(self.client, live, self.namespace)
