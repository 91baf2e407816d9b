# -*- coding: utf-8 -*-
"""The comparer: what differs between wanted and live, and the patch that fixes it."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.compare import (
    apply_metadata, merge_patch, metadata_patch, spec_differences,
)

LIVE = {"storage": "ContainerRegistry",
        "dataSource": {"type": "HTTP", "http": {"url": "http://a", "checksum": {"md5": "0" * 32}}}}


def test_equal_specs_have_no_difference():
    assert spec_differences(LIVE, dict(LIVE)) == []


def test_changed_leaf_is_named():
    wanted = {"storage": "ContainerRegistry",
              "dataSource": {"type": "HTTP", "http": {"url": "http://b", "checksum": {"md5": "0" * 32}}}}
    assert spec_differences(wanted, LIVE) == ["spec.dataSource.http.url"]


def test_removed_field_is_a_difference():
    wanted = {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": "http://a"}}}
    assert spec_differences(wanted, LIVE) == ["spec.dataSource.http.checksum"]


def test_source_kind_change_names_all_fields():
    wanted = {"storage": "ContainerRegistry", "dataSource": {"type": "ObjectRef",
                                                             "objectRef": {"kind": "VirtualImage", "name": "x"}}}
    assert spec_differences(wanted, LIVE) == ["spec.dataSource.http", "spec.dataSource.objectRef",
                                              "spec.dataSource.type"]


def test_metadata_patch_is_additive():
    live = {"labels": {"a": "1", "keep": "x"}, "annotations": {"n": "1"}}
    assert metadata_patch({"labels": {"a": "1"}}, live) is None
    assert metadata_patch({"labels": {"a": "2", "b": "3"}}, live) == {"labels": {"a": "2", "b": "3"}}
    assert metadata_patch({"annotations": {"m": "v"}}, {}) == {"annotations": {"m": "v"}}


def test_apply_metadata_merges():
    assert apply_metadata({"name": "x", "labels": {"k": "x"}}, {"labels": {"a": "1"}}) == {
        "name": "x", "labels": {"k": "x", "a": "1"}}


def test_merge_patch_deletes_what_is_gone_and_replaces_blocks():
    wanted = {"storage": "ContainerRegistry", "dataSource": {"type": "ObjectRef",
                                                             "objectRef": {"kind": "VirtualImage", "name": "x"}}}
    patch = merge_patch(LIVE, wanted)
    assert patch == {"dataSource": {"type": "ObjectRef", "http": None,
                                    "objectRef": {"kind": "VirtualImage", "name": "x"}}}


def test_merge_patch_of_equal_is_empty():
    assert merge_patch(LIVE, LIVE) == {}


def test_a_digest_in_another_case_is_the_same_digest_and_nothing_else_is():
    upper = {"storage": "ContainerRegistry",
             "dataSource": {"type": "HTTP", "http": {"url": "http://a", "checksum": {"md5": "AB" * 16}}}}
    lower = {"storage": "ContainerRegistry",
             "dataSource": {"type": "HTTP", "http": {"url": "http://a", "checksum": {"md5": "ab" * 16}}}}
    assert spec_differences(lower, upper) == []
    assert spec_differences(dict(lower, storage="PersistentVolumeClaim"), dict(upper, storage="persistentvolumeclaim")) \
        == ["spec.storage"]
