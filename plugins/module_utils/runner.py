# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Glue between AnsibleModule and the library: the only place that exits."""

from __future__ import annotations

import copy
import time
from typing import Any, Callable, Dict, Optional

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.deckhouse.virtualization.plugins.module_utils.args import merge_connection
from ansible_collections.deckhouse.virtualization.plugins.module_utils.client import (
    HAS_K8S, K8S_IMPORT_ERROR, build_client,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.errors import ImageError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.image import ImageRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.info import list_images, validate_info
from ansible_collections.deckhouse.virtualization.plugins.module_utils.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.spec import HAS_YAML, load_definition
from ansible_collections.deckhouse.virtualization.plugins.module_utils.upload import (
    source_upload_options, upload_after_create, wants_upload,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.validation import (
    reject_unsupported, validate,
)


def _require_libs(module: AnsibleModule) -> None:
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(K8S_IMPORT_ERROR))
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))


def run_module(module: AnsibleModule, work: Callable[[Dict[str, Any]], Dict[str, Any]],
               tracker: Optional[Tracker] = None) -> None:
    """What every module's main shares: the libraries, a private copy of the options (``connection`` folded
    into the auth options), typed errors turned
    into ``fail_json`` (with the duration and, when tracked, the phases seen), ``diff`` only when asked."""
    _require_libs(module)
    started = time.monotonic()
    params = copy.deepcopy(module.params)
    merge_connection(params)
    try:
        result = work(params)
    except ImageError as exc:
        failure: Dict[str, Any] = {"duration": round(time.monotonic() - started, 3)}
        if tracker is not None:
            failure["phases"] = tracker.phases
        failure.update(exc.details)
        _diff_when_asked(module, failure)
        module.fail_json(msg=exc.msg, **failure)
    _diff_when_asked(module, result)
    module.exit_json(**result)


def _diff_when_asked(module: AnsibleModule, result: Dict[str, Any]) -> None:
    if not module._diff:
        result.pop("diff", None)


def run_image_module(module: AnsibleModule, kind: Kind) -> None:
    """virtual_image / cluster_virtual_image main."""
    label = kind.ref(module.params.get("name") or "?", module.params.get("namespace"))
    tracker = Tracker(label, module.params.get("progress_file"))

    def work(params: Dict[str, Any]) -> Dict[str, Any]:
        load_definition(params)
        validate(params, kind)
        reject_unsupported(params)
        tracker.label = kind.ref(params["name"], params.get("namespace"))
        upload = source_upload_options(params) if wants_upload(params) else None  # checked before any write
        client = build_client(params, check_mode=module.check_mode)
        result = ImageRunner(client, kind, params if upload is None else dict(params, wait=False), tracker).run()
        if upload is not None:  # create (or check) the image without waiting, then stream the file and wait for Ready
            result = upload_after_create(client, kind, params, upload, tracker, result)
        return result

    run_module(module, work, tracker)


def run_info_module(module: AnsibleModule) -> None:
    """virtual_image_info main."""

    def work(params: Dict[str, Any]) -> Dict[str, Any]:
        validate_info(params)
        return dict(list_images(build_client(params), params), changed=False)

    run_module(module, work)
