# -*- coding: utf-8 -*-
"""The runner decides changes before writing: no-op runs write nothing; provisioned specs are not patched."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ImmutableSpec, ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import build_manifest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import image_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.runner import ImageRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions


class FakeClient:
    """Holds one live object; records writes."""

    def __init__(self, live, check_mode=False):
        self.live = live
        self.check_mode = check_mode
        self.writes = []

    def get(self, path):
        return copy.deepcopy(self.live) if "/virtualimages/" in path else None

    def create(self, path, body):
        self.writes.append(("POST", body))
        return dict(body, metadata=dict(body["metadata"], uid="u2"))

    def patch(self, path, body):
        self.writes.append(("PATCH", body))
        return self.live

    def delete(self, path):
        self.writes.append(("DELETE", path))
        return {}


def params(**kw):
    base = {"name": "img", "namespace": "ns", "state": "present", "wait": False, "wait_timeout": 5,
            "recreate": False, "source": {"http": {"url": "https://x/a.qcow2"}}}
    base.update(kw)
    return base


def live_from(p, phase):
    obj = build_manifest(ImageOptions.from_params(p), VIRTUAL_IMAGE)
    obj["metadata"].update(uid="u1", generation=1, resourceVersion="7")
    obj["status"] = {"phase": phase}
    return obj


def run(client, p):
    return ImageRunner(client, image_request(ImageOptions.from_params(p), VIRTUAL_IMAGE), Tracker("t")).run()


def test_no_op_writes_nothing():
    client = FakeClient(live_from(params(labels={"a": "1"}), "Ready"))
    result = run(client, params(labels={"a": "1"}))
    assert result["changed"] is False and client.writes == []


def test_labels_only_patch_metadata():
    client = FakeClient(live_from(params(), "Ready"))
    assert run(client, params(labels={"a": "1"}))["changed"] is True
    assert client.writes == [("PATCH", {"metadata": {"labels": {"a": "1"}}})]


def test_provisioned_spec_change_is_refused_without_a_write():
    client = FakeClient(live_from(params(), "Ready"))
    with pytest.raises(ImmutableSpec) as err:
        run(client, params(source={"http": {"url": "https://x/b.qcow2"}}))
    assert err.value.details["differing_fields"] == ["spec.dataSource.http.url"]
    assert "recreate: true" in err.value.msg and client.writes == []


def test_spec_change_before_ready_is_a_merge_patch():
    client = FakeClient(live_from(params(source={"http": {"url": "https://x/a", "checksum": {"md5": "0" * 32}}}),
                                  "Provisioning"))
    run(client, params())
    assert client.writes == [("PATCH", {"spec": {"dataSource": {"http": {"url": "https://x/a.qcow2",
                                                                         "checksum": None}}}})]


def test_recreate_in_check_mode_only_dry_runs_the_delete():
    client = FakeClient(live_from(params(), "Ready"), check_mode=True)
    result = run(client, params(recreate=True, source={"http": {"url": "https://x/b.qcow2"}}))
    assert result["changed"] is True and [w[0] for w in client.writes] == ["DELETE"]
    assert result["diff"]["after"]["spec"]["dataSource"]["http"]["url"] == "https://x/b.qcow2"


def test_absent_when_missing_is_unchanged():
    client = FakeClient(None)
    assert run(client, params(state="absent"))["changed"] is False and client.writes == []


class ClassesClient(FakeClient):
    """A cluster with the storage class ``fast`` only."""

    def exists(self, path):
        return path == "/apis/storage.k8s.io/v1/storageclasses/fast"


def test_an_image_on_a_storage_class_that_does_not_exist_is_refused_before_any_write():
    """The vi webhook refuses it (at create, and when a Pending image is moved to it): named in the option's words,
    the rule the disk module follows too (objects/storage_classes.py)."""
    on_pvc = {"storage": "PersistentVolumeClaim"}
    client = ClassesClient(None)
    with pytest.raises(ValidationError) as err:
        run(client, params(storage_class="fats", **on_pvc))
    assert err.value.msg.startswith('storage_class: storage class "fats" not found; name an existing StorageClass')
    assert client.writes == []
    client = ClassesClient(live_from(params(storage_class="fast", **on_pvc), "Pending"))
    with pytest.raises(ValidationError):
        run(client, params(storage_class="gone", **on_pvc))
    assert client.writes == []
    run(ClassesClient(None), params(storage_class="fast", **on_pvc))
