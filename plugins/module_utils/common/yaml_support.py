# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""PyYAML, imported once: the glue fails a module run with ``missing_required_lib`` before anything parses YAML."""

from __future__ import annotations

from typing import Any

__all__ = ["HAS_YAML", "yaml"]

yaml: Any
try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by the module
    yaml = None
    HAS_YAML = False
