# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Composes doc fragments from shared pieces, so an option's text is written once.

ansible-core merges a fragment into a module's documentation only at the top level of ``options`` (one
option is taken whole from one place), so an option shared at different depths (``checksum`` of
virtual_image_upload and ``source.upload.checksum`` of the image modules) cannot be assembled by
``extends_documentation_fragment`` alone. Fragments are Python classes, though: they build their
``DOCUMENTATION`` from YAML pieces here, and ansible-doc, validate-modules and antsibull-docs read the result.
"""

from __future__ import annotations

import copy
from string import Template
from typing import Any, Dict

import yaml


def piece(text: str, **names: str) -> Dict[str, Any]:
    """A YAML piece of documentation as a fresh dictionary, with its ``${name}`` placeholders filled."""
    return copy.deepcopy(yaml.safe_load(Template(text).substitute(names)))


def render(**sections: Any) -> str:
    """A fragment's documentation string from its sections (``options``, ``notes``, ...)."""
    return yaml.safe_dump(sections, sort_keys=False, width=120, allow_unicode=True)
