# -*- coding: utf-8 -*-
"""The spec builder: typed options -> VirtualImage / ClusterVirtualImage manifests."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import (
    build_manifest as _build_manifest,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import (
    build_pull_secret as _build_pull_secret,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest import registry_host
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions


def build_manifest(params, kind):
    return _build_manifest(ImageOptions.from_params(params), kind)


def build_pull_secret(params, kind):
    return _build_pull_secret(ImageOptions.from_params(params), kind)


PEM = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"


def vi(**kw):
    params = {"name": "img", "namespace": "ns", "state": "present"}
    params.update(kw)
    return params


def test_http_into_dvcr_defaults_storage_and_encodes_ca():
    manifest = build_manifest(vi(source={"http": {"url": "https://x/a.qcow2", "ca_bundle": PEM,
                                                  "checksum": {"sha256": "a" * 64, "md5": None}}}),
                              VIRTUAL_IMAGE)
    assert manifest["apiVersion"] == "virtualization.deckhouse.io/v1alpha2"
    assert manifest["kind"] == "VirtualImage"
    assert manifest["metadata"] == {"name": "img", "namespace": "ns"}
    spec = manifest["spec"]
    assert spec["storage"] == "ContainerRegistry"
    assert spec["dataSource"]["type"] == "HTTP"
    http = spec["dataSource"]["http"]
    assert http["checksum"] == {"sha256": "a" * 64}
    assert base64.b64decode(http["caBundle"]).decode() == PEM


def test_pvc_storage_with_class_and_labels_stringified():
    manifest = build_manifest(vi(storage="PersistentVolumeClaim", storage_class="fast", labels={"n": 1},
                                 source={"object_ref": {"kind": "VirtualDisk", "name": "d"}}), VIRTUAL_IMAGE)
    assert manifest["spec"]["persistentVolumeClaim"] == {"storageClassName": "fast"}
    assert manifest["spec"]["dataSource"] == {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "d"}}
    assert manifest["metadata"]["labels"] == {"n": "1"}


def test_cvi_has_no_storage_and_keeps_ref_namespace():
    params = {"name": "c", "source": {"object_ref": {"kind": "VirtualImage", "name": "v", "namespace": "ns"}}}
    manifest = build_manifest(params, CLUSTER_VIRTUAL_IMAGE)
    assert "storage" not in manifest["spec"]
    assert "namespace" not in manifest["metadata"]
    assert manifest["spec"]["dataSource"]["objectRef"] == {"kind": "VirtualImage", "name": "v", "namespace": "ns"}


def test_cvi_ref_to_cluster_image_drops_namespace():
    params = {"name": "c", "source": {"object_ref": {"kind": "ClusterVirtualImage", "name": "v", "namespace": "x"}}}
    assert build_manifest(params, CLUSTER_VIRTUAL_IMAGE)["spec"]["dataSource"]["objectRef"] == {
        "kind": "ClusterVirtualImage", "name": "v"}


def test_registry_credentials_make_an_owned_secret_and_point_at_it():
    params = vi(source={"container_image": {"image": "reg.example.com:5000/disk:1",
                                            "registry_credentials": {"username": "u", "password": "p"}}})
    manifest = build_manifest(params, VIRTUAL_IMAGE)
    secret = build_pull_secret(params, VIRTUAL_IMAGE)
    assert manifest["spec"]["dataSource"]["containerImage"]["imagePullSecret"] == {"name": "img-registry-credentials"}
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"]["name"] == "img-registry-credentials"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    entry = config["auths"]["reg.example.com:5000"]
    assert base64.b64decode(entry["auth"]).decode() == "u:p"


def test_cvi_owned_secret_goes_where_asked():
    params = {"name": "c", "source": {"container_image": {
        "image": "reg.example.com/disk:1", "image_pull_secret": {"namespace": "keys"},
        "registry_credentials": {"username": "u", "password": "p"}}}}
    manifest = build_manifest(params, CLUSTER_VIRTUAL_IMAGE)
    assert manifest["spec"]["dataSource"]["containerImage"]["imagePullSecret"] == {
        "name": "c-registry-credentials", "namespace": "keys"}
    assert build_pull_secret(params, CLUSTER_VIRTUAL_IMAGE)["metadata"]["namespace"] == "keys"


def test_no_credentials_no_secret():
    params = vi(source={"container_image": {"image": "r.io/x:1", "image_pull_secret": "mine"}})
    assert build_pull_secret(params, VIRTUAL_IMAGE) is None
    assert build_manifest(params, VIRTUAL_IMAGE)["spec"]["dataSource"]["containerImage"] == {
        "image": "r.io/x:1", "imagePullSecret": {"name": "mine"}}


@pytest.mark.parametrize("image,host", [("debian:12", "docker.io"), ("library/debian", "docker.io"),
                                        ("localhost/x", "localhost"), ("r.io/a/b:1", "r.io")])
def test_registry_host(image, host):
    assert registry_host(image) == host


def test_definition_yaml_fills_name_and_namespace_and_defaults_storage():
    params = {"definition": "apiVersion: virtualization.deckhouse.io/v1alpha2\nkind: VirtualImage\n"
                            "metadata: {name: a, namespace: b}\nspec: {dataSource: {type: HTTP, http: {url: 'http://x'}}}\n",
              "name": None, "namespace": None}
    options = ImageOptions.from_params(params)
    assert (options.name, options.namespace) == ("a", "b")
    assert _build_manifest(options, VIRTUAL_IMAGE)["spec"]["storage"] == "ContainerRegistry"
    assert params["name"] is None  # the module's parameters are read, never changed


def test_definition_name_option_wins():
    params = {"definition": {"kind": "VirtualImage", "metadata": {"name": "a"}, "spec": {}}, "name": "z"}
    options = ImageOptions.from_params(params)
    assert options.definition["metadata"]["name"] == "z"
    assert params["definition"]["metadata"]["name"] == "a"


def test_definition_bad_yaml():
    with pytest.raises(ValidationError, match="definition is not valid YAML"):
        ImageOptions.from_params({"definition": "a: [1"})


def test_src_that_bypassed_the_action_plugin_is_refused_unread(tmp_path):
    path = tmp_path / "vi.yaml"
    path.write_text("kind: VirtualImage\nmetadata: {name: f}\nspec: {}\n")
    params = {"src": str(path), "definition": None, "name": None}
    with pytest.raises(ValidationError, match=r"^src: .* read on the controller by the module's action plugin"):
        ImageOptions.from_params(params)


def test_digests_are_sent_in_lower_case():
    manifest = build_manifest(vi(source={"http": {"url": "https://x/a.qcow2", "checksum": {"sha256": "AB" * 32}}}),
                              VIRTUAL_IMAGE)
    assert manifest["spec"]["dataSource"]["http"]["checksum"] == {"sha256": "ab" * 32}
