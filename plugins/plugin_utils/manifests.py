# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Manifest files read on the controller, so that a folder of manifests in git seeds like a list of entries.

The action plugin reads them (with the collection's file policy: search path, vault) and hands the module
their documents as ``definitions``; the module never sees a manifest path.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List

import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.local_files import LocalFiles


def read_definitions(patterns: List[str], files: LocalFiles, option: str = "manifests") -> List[Dict[str, Any]]:
    """``{origin, manifest}`` for every YAML document of every file matched, in pattern then sorted file order.

    ``origin`` is the file's name, with ``#<n>`` when the file holds several documents."""
    found: List[Dict[str, Any]] = []
    for index, pattern in enumerate(patterns or []):
        name = "%s[%d]" % (option, index)
        for path in files.glob(pattern, name):
            try:
                documents = [doc for doc in yaml.safe_load_all(files.read_found(path, name)) if doc is not None]
            except yaml.YAMLError as exc:
                raise AnsibleActionFail("%s: %s cannot be read: %s" % (name, path, exc))
            for number, document in enumerate(documents):
                base = os.path.basename(path)
                origin = base if len(documents) == 1 else "%s#%d" % (base, number)
                found.append({"origin": origin, "manifest": document})
    return found
