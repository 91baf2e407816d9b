# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Glue between AnsibleModule and the library: options -> typed request -> client -> runner -> result.

Every module is a subclass with one ``request`` (every check, before any request is sent) and one ``execute``;
``main`` is the only place that builds a client and the only place that exits, so a test that forbids
``build_client`` proves for every module that bad input never reaches the cluster.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, build_client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.transport import (
    HAS_URLLIB3, URLLIB3_IMPORT_ERROR,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_urls
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.yaml_support import HAS_YAML
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.namespaces import require_namespace
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    merge_connection, validate_connection,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.sums import (
    ChecksumBlock, SumsResolver,
)


Request = TypeVar("Request")


class CollectionModule(Generic[Request]):
    """One module run. A module file subclasses it with its options, how its typed request is built and what
    carries the request out."""

    mutually_exclusive: Sequence[Tuple[str, ...]] = ()
    sums = SumsResolver()   # main() gives each run its own (with the run's request_timeout)

    def argument_spec(self) -> Dict[str, Any]:
        """The module's options (a fresh copy: AnsibleModule mutates it)."""
        raise NotImplementedError

    def request(self, params: Mapping[str, Any]) -> Request:
        """The typed request: every option check, no request sent; ``params`` is not changed."""
        raise NotImplementedError

    def execute(self, client: Client, request: Request, tracker: Tracker) -> Dict[str, Any]:
        """Carry the request out; a result dict, or an TaskError."""
        raise NotImplementedError

    def label(self, request: Request) -> str:
        """How progress lines name what the run works on."""
        return ""

    def checksum_blocks(self, params: Dict[str, Any]) -> List[ChecksumBlock]:
        """Where this module's parameters hold checksums; a value there may be a sums file URL."""
        return []

    def namespace(self, request: Request) -> Optional[str]:
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
        params = merge_connection(module.params)
        tracker: Optional[Tracker] = None
        try:
            validate_connection(params)
            self.sums = SumsResolver(params.get("request_timeout") or 30.0)
            params = self.sums.resolved(params, self.checksum_blocks)
            request = self.request(params)
            tracker = Tracker(self.label(request), params.get("progress_file"), dry_run=module.check_mode)
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
            module.fail_json(msg=exc.msg, **redact_urls(failure))
        _diff_when_asked(module, result)
        module.exit_json(**redact_urls(result))


def _require_libs(module: AnsibleModule) -> None:
    if not HAS_URLLIB3:
        module.fail_json(msg=missing_required_lib("urllib3"), exception=str(URLLIB3_IMPORT_ERROR))
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
