# -*- coding: utf-8 -*-
"""catalog/manifests.py: manifest files read from globs, each document named by its file."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.manifests import read_manifests
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError


def test_manifests_from_globs_and_a_glob_matching_nothing(tmp_path):
    (tmp_path / "b.yaml").write_text("kind: VirtualImage\nmetadata: {name: b}\n---\n---\nkind: VirtualImage\n"
                                     "metadata: {name: c}\n")
    (tmp_path / "a.yaml").write_text("kind: VirtualImage\nmetadata: {name: a}\n")
    found = read_manifests([str(tmp_path / "*.yaml")])
    assert [(f["origin"], f["manifest"]["metadata"]["name"]) for f in found] == [
        ("a.yaml", "a"), ("b.yaml#0", "b"), ("b.yaml#1", "c")]
    with pytest.raises(ValidationError, match=r"manifests\[1\]: '.*nothing\*.yml' matches no file"):
        read_manifests([str(tmp_path / "a.yaml"), str(tmp_path / "nothing*.yml")])
