# -*- coding: utf-8 -*-
"""CatalogOptions: built once from module parameters (checked, entries parsed), never changed, and the module's
parameters left as they were."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)

MANIFEST = {"apiVersion": API_VERSION, "kind": "VirtualImage", "metadata": {"name": "from-git", "namespace": "b"},
            "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": "https://h/g"}}}}


def params(**kw):
    base = {"catalog": "base", "namespaces": ["a", "b"], "create_namespaces": True, "prune": True,
            "recreate": False, "fanout": "cluster", "wait": True, "wait_timeout": 90, "progress_file": "/run/p",
            "images": [{"name": "deb", "url": "https://h/deb"}], "images_option": "image_catalog_images",
            "definitions": [{"origin": "git.yaml", "manifest": MANIFEST}], "manifests": []}
    base.update(kw)
    return base


def test_every_option_the_run_needs_is_typed():
    options = CatalogOptions.from_params(params(), VIRTUAL_IMAGE)
    assert (options.kind, options.catalog, options.namespaces, options.scopes) == (
        VIRTUAL_IMAGE, "base", ("a", "b"), ("a", "b"))
    assert (options.create_namespaces, options.prune, options.recreate, options.fanout) == (True, True, False, "cluster")
    assert (options.wait, options.wait_timeout, options.progress_file) == (True, 90.0, "/run/p")
    assert isinstance(options.wait_timeout, float)


def test_entries_then_definitions_each_parsed_once():
    entries = CatalogOptions.from_params(params(), VIRTUAL_IMAGE).entries
    assert isinstance(entries, tuple)
    assert [(e.label, e.source, e.namespace) for e in entries] == [
        ("image_catalog_images[0] (deb)", "url", None), ("git.yaml (from-git)", "manifest", "b")]


def test_a_cluster_wide_catalog_runs_in_no_namespace():
    options = CatalogOptions.from_params(params(namespaces=None, definitions=[]), CLUSTER_VIRTUAL_IMAGE)
    assert options.namespaces == () and options.scopes == (None,)


def test_built_without_changing_the_parameters_and_never_changed_after():
    given = params()
    before = copy.deepcopy(given)
    options = CatalogOptions.from_params(given, VIRTUAL_IMAGE)
    assert given == before
    with pytest.raises(AttributeError):
        options.prune = False   # type: ignore[misc]


@pytest.mark.parametrize("change, message", [
    ({"catalog": "Bad"}, "catalog"),
    ({"images": [{"name": "deb"}]}, "image_catalog_images[0] (deb): give exactly one of"),
    ({"namespaces": ["a"]}, "git.yaml (from-git): its namespace b is not one of the catalog's namespaces"),
])
def test_a_bad_option_or_entry_builds_nothing(change, message):
    with pytest.raises(ValidationError) as caught:
        CatalogOptions.from_params(params(**change), VIRTUAL_IMAGE)
    assert message in caught.value.msg


def test_manifests_that_bypassed_the_action_plugin_are_refused_before_anything_is_planned():
    """Planned without its files the catalog would look empty, and with prune would delete what it owns."""
    with pytest.raises(ValidationError, match="^manifests reached the module unread"):
        CatalogOptions.from_params(params(manifests=["git/*.yaml"], images=[], definitions=[]), VIRTUAL_IMAGE)
