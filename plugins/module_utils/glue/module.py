# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Glue between AnsibleModule and the library: options -> typed request -> client -> runner -> result.

Every module is a subclass with one ``request`` (every check, before any request is sent) and one ``execute``;
``main`` is the only place that builds a client and the only place that exits, so a test that forbids
``build_client`` proves for every module that bad input never reaches the cluster.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import (
    HAS_K8S, K8S_IMPORT_ERROR, Client, build_client,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.apply import (
    CatalogRequest, CatalogRun, kind_of,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    definition_checksum_blocks, entry_checksum_blocks, parse_catalog,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.manifests import read_manifests
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_DISK, VIRTUAL_IMAGE, VIRTUAL_MACHINE, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.yaml_support import HAS_YAML
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.info import list_disks
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import (
    disk_request, snapshot_request,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.runner import DiskRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.snapshot import SnapshotRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.info import list_images
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import image_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.runner import ImageRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import (
    CaptureRequest, CaptureRunner,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.power import (
    VmOperationRequest, run_operation,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.namespaces import require_namespace
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options import args
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions, SnapshotOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import (
    UploadOptions, UploadRequest,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import (
    validate_connection, validate_info, validate_upload, validate_upload_target,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import (
    ChecksumBlock, SumsResolver, manifest_checksum_blocks,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import UploadRunner


class CollectionModule:
    """One module run. Subclasses say which options they take, how a request is built, what runs it."""

    mutually_exclusive: Sequence[Tuple[str, ...]] = ()
    sums = SumsResolver()   # main() gives each run its own (with the run's request_timeout)

    def argument_spec(self) -> Dict[str, Any]:
        """The module's options (a fresh copy: AnsibleModule mutates it)."""
        raise NotImplementedError

    def request(self, params: Dict[str, Any]) -> Any:
        """The typed request: every option check, no request sent."""
        raise NotImplementedError

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        """Carry the request out; a result dict, or an TaskError."""
        raise NotImplementedError

    def label(self, request: Any) -> str:
        """How progress lines name what the run works on."""
        return ""

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        """Where this module's parameters hold checksums; a value there may be a sums file URL."""
        return []

    def namespace(self, request: Any) -> Optional[str]:
        """The one namespace the run works in, checked to exist before anything else (None: none, or the module
        checks its namespaces itself, as the catalog does)."""
        return getattr(request, "namespace", None)

    def main(self) -> None:
        """Options, request, client, run; typed errors become ``fail_json`` (with the duration and the phases
        seen); ``diff`` only when asked."""
        module = AnsibleModule(argument_spec=self.argument_spec(), supports_check_mode=True,
                               mutually_exclusive=[list(pair) for pair in self.mutually_exclusive])
        _require_libs(module)
        started = time.monotonic()
        params = copy.deepcopy(module.params)
        args.merge_connection(params)
        tracker: Optional[Tracker] = None
        try:
            validate_connection(params)
            self.sums = SumsResolver(params.get("request_timeout") or 30.0)
            self.sums.resolve(self.checksum_blocks(params))
            request = self.request(params)
            tracker = Tracker(self.label(request), params.get("progress_file"))
            client = build_client(params, check_mode=module.check_mode)
            namespace = self.namespace(request)
            if namespace:
                require_namespace(client, namespace)
            result = self.execute(client, request, tracker)
        except TaskError as exc:
            failure: Dict[str, Any] = {"duration": round(time.monotonic() - started, 3)}
            failure["phases"] = tracker.phases if tracker is not None else []
            failure.update(exc.details)
            _diff_when_asked(module, failure)
            module.fail_json(msg=exc.msg, **failure)
        _diff_when_asked(module, result)
        module.exit_json(**result)


def _require_libs(module: AnsibleModule) -> None:
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(K8S_IMPORT_ERROR))
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))


def source_checksum_blocks(params: Mapping[str, Any]) -> List[ChecksumBlock]:
    """The checksums of a ``source`` option (images and disks): its ``http`` and ``upload`` blocks (none to read
    for ``state: absent``: a vendor's sums file may be gone by the time its image is deleted)."""
    if params.get("state") == "absent":
        return []
    source = params.get("source") or {}
    return [ChecksumBlock(source[key], "source.%s.checksum" % key) for key in ("http", "upload")
            if isinstance(source.get(key), dict)]


def _diff_when_asked(module: AnsibleModule, result: Dict[str, Any]) -> None:
    if not module._diff:
        result.pop("diff", None)


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


class UploadModule(CollectionModule):
    """virtual_image_upload."""

    def argument_spec(self) -> Dict[str, Any]:
        return args.upload_arg_spec()

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return [ChecksumBlock(params, "checksum")]

    def request(self, params: Dict[str, Any]) -> Any:
        kind = CLUSTER_VIRTUAL_IMAGE if params["cluster"] else VIRTUAL_IMAGE
        validate_upload_target(params, kind)
        opts = UploadOptions.from_params(params)
        validate_upload(opts)
        return UploadRequest(kind, params["name"], None if params["cluster"] else params["namespace"], opts)

    def label(self, request: Any) -> str:
        return request.kind.ref(request.name, request.namespace)

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return UploadRunner(client, request.kind, request.name, request.namespace, request.options, tracker).run()


class CatalogModule(CollectionModule):
    """image_catalog_apply."""

    def argument_spec(self) -> Dict[str, Any]:
        return args.catalog_arg_spec()

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return entry_checksum_blocks(params, kind_of(params["cluster"]))

    def request(self, params: Dict[str, Any]) -> Any:
        params["definitions"] = list(params["definitions"]) + read_manifests(params["manifests"])
        self.sums.resolve(definition_checksum_blocks(params["definitions"]))
        kind = kind_of(params["cluster"])
        return CatalogRequest(kind, params, parse_catalog(params, kind))

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return CatalogRun(client, request.kind, request.params).run(request.entries)


class CaptureModule(CollectionModule):
    """virtual_image_capture."""

    def label(self, request: Any) -> str:
        return VIRTUAL_DISK.ref(request.disk, request.namespace)

    def argument_spec(self) -> Dict[str, Any]:
        return args.capture_arg_spec()

    def request(self, params: Dict[str, Any]) -> Any:
        return CaptureRequest.from_params(params)

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return CaptureRunner(client, request, tracker).run()


class VmOperationModule(CollectionModule):
    """virtual_machine_operation."""

    def label(self, request: Any) -> str:
        return VIRTUAL_MACHINE.ref(request.name, request.namespace)

    def argument_spec(self) -> Dict[str, Any]:
        return args.vm_operation_arg_spec()

    def request(self, params: Dict[str, Any]) -> Any:
        return VmOperationRequest.from_params(params)

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return run_operation(client, request, tracker)


class InfoModule(CollectionModule):
    """virtual_image_info."""

    def argument_spec(self) -> Dict[str, Any]:
        return args.info_arg_spec()

    def request(self, params: Dict[str, Any]) -> Any:
        validate_info(params)
        return params

    def namespace(self, request: Any) -> Optional[str]:
        return request.get("namespace")

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return dict(list_images(client, request), changed=False)


class DiskModule(CollectionModule):
    """virtual_disk."""

    def argument_spec(self) -> Dict[str, Any]:
        return args.disk_arg_spec()

    def request(self, params: Dict[str, Any]) -> Any:
        return disk_request(DiskOptions.from_params(params))

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        return source_checksum_blocks(params)

    def label(self, request: Any) -> str:
        return request.ref

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return DiskRunner(client, request, tracker).run()


class SnapshotModule(CollectionModule):
    """virtual_disk_snapshot."""

    def argument_spec(self) -> Dict[str, Any]:
        return args.disk_snapshot_arg_spec()

    def request(self, params: Dict[str, Any]) -> Any:
        return snapshot_request(SnapshotOptions.from_params(params))

    def label(self, request: Any) -> str:
        return request.ref

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return SnapshotRunner(client, request, tracker).run()


class DiskInfoModule(CollectionModule):
    """virtual_disk_info."""

    def argument_spec(self) -> Dict[str, Any]:
        return args.disk_info_arg_spec()

    def request(self, params: Dict[str, Any]) -> Any:
        validate_info(params, VIRTUAL_DISK)
        return params

    def namespace(self, request: Any) -> Optional[str]:
        return request.get("namespace")

    def execute(self, client: Client, request: Any, tracker: Tracker) -> Dict[str, Any]:
        return dict(list_disks(client, request), changed=False)
