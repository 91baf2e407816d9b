# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Reads manifest files named by paths or globs, so a git folder of manifests seeds like a list of entries."""

from __future__ import annotations

import glob
import os
from typing import Any, Dict, List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.yaml_support import yaml


def read_manifests(patterns: List[str]) -> List[Dict[str, Any]]:
    """``{origin, manifest}`` for every YAML document of every file matched, in sorted file order.

    A pattern that matches nothing is an error: a typo must not silently seed (or prune) less.
    """
    found: List[Dict[str, Any]] = []
    for index, pattern in enumerate(patterns or []):
        paths = sorted(path for path in glob.glob(os.path.expanduser(pattern)) if os.path.isfile(path))
        if not paths:
            raise ValidationError("manifests[%d]: %r matches no file" % (index, pattern))
        for path in paths:
            try:
                with open(path, encoding="utf-8") as stream:
                    documents = [doc for doc in yaml.safe_load_all(stream) if doc is not None]
            except (OSError, yaml.YAMLError) as exc:
                raise ValidationError("manifests[%d]: %s cannot be read: %s" % (index, path, exc))
            for number, document in enumerate(documents):
                origin = os.path.basename(path) if len(documents) == 1 else "%s#%d" % (os.path.basename(path), number)
                found.append({"origin": origin, "manifest": document})
    return found
