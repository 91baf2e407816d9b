# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed options of one image: what ``virtual_image`` and ``cluster_virtual_image`` take, and what capture
and catalogs build for the images they make.

Why typed: callers other than the module (capture, catalogs) need not fake its untyped parameters (unused keys
filled with ``None``, a placeholder namespace); a NamedTuple with defaults lets each caller say only what it means.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Mapping, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.yaml_support import yaml


class ImageOptions(NamedTuple):
    """One image as the user describes it: typed options, or a whole ``definition`` (already parsed)."""

    name: Optional[str] = None
    namespace: Optional[str] = None
    state: str = "present"
    source: Optional[Dict[str, Any]] = None
    labels: Optional[Dict[str, Any]] = None
    annotations: Optional[Dict[str, Any]] = None
    storage: Optional[str] = None
    storage_class: Optional[str] = None
    definition: Optional[Dict[str, Any]] = None
    recreate: bool = False
    force: bool = False
    wait: bool = True
    wait_timeout: float = 1800.0

    @property
    def present(self) -> bool:
        """``state: present``."""
        return self.state != "absent"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ImageOptions":
        """From module parameters: ``definition`` or ``src`` parsed, name and namespace filled from it.

        Explicit ``name``/``namespace`` options win over the manifest, as in kubernetes.core.
        """
        definition = _load_definition(params.get("definition"), params.get("src"))
        name, namespace = params.get("name"), params.get("namespace")
        if definition is not None:
            meta = definition["metadata"]
            for key, given in (("name", name), ("namespace", namespace)):
                if given is not None:
                    meta[key] = given
            name, namespace = meta.get("name"), meta.get("namespace")
        known = {field: params[field] for field in cls._fields if params.get(field) is not None}
        known.update(name=name, namespace=namespace, definition=definition)
        return cls(**known)


def _load_definition(definition: Any, src: Optional[str]) -> Optional[Dict[str, Any]]:
    """``definition`` (YAML text or mapping), parsed into a private copy.

    ``src`` is a file on the controller: the module's action plugin reads it (the one way local files reach a
    module, with the lookup, vault and relative-path rules of ``copy``) and passes its text as ``definition``. A
    ``src`` that arrives here means the action plugin was bypassed; reading the path on the managed host instead
    would be a second, different file policy, so it is refused.
    """
    if src:
        raise ValidationError("src: %r reached the module unread: the manifest file is read on the controller by the "
                              "module's action plugin, which this run bypassed; run the task as "
                              "deckhouse.virtualization.virtual_image or cluster_virtual_image, or give the "
                              "manifest itself as definition" % src)
    if definition is None:
        return None
    if isinstance(definition, str):
        try:
            definition = yaml.safe_load(definition)
        except yaml.YAMLError as exc:
            raise ValidationError("definition is not valid YAML: %s" % exc)
    if not isinstance(definition, dict):
        raise ValidationError("definition must be a mapping (or YAML text of one)")
    definition = copy.deepcopy(definition)
    definition["metadata"] = definition.get("metadata") or {}
    return definition
