# -*- coding: utf-8 -*-
"""Fields a cluster's API lacks: the strict refusal read back and named as the user wrote them."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, FieldsUnknown
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import (
    UPLOAD_CHECKSUM, align_upload_checksum, create_image, has, option_for, unknown_field_message, unknown_fields,
    without,
)

CANNOT = 'VirtualImage in version "v1alpha2" cannot be handled as a VirtualImage: strict decoding error: '


def refusal(*fields, status=400):
    text = CANNOT + ", ".join('unknown field "%s"' % field for field in fields)
    return ApiError("API error %d BadRequest while trying to create virtualimages: %s" % (status, text),
                    status=status, reason="BadRequest")


def test_unknown_fields_are_read_from_create_and_patch_refusals_only():
    assert unknown_fields(refusal("spec.b", "spec.a")) == ["spec.a", "spec.b"]
    assert unknown_fields(refusal("spec.a", status=422)) == ["spec.a"]
    assert unknown_fields(ApiError('unknown field "spec.a"', status=409)) == []
    assert unknown_fields(ApiError("admission webhook denied the request", status=400)) == []


@pytest.mark.parametrize("field,style,option", [
    ("spec.dataSource.http.checksum.sha512", "module", "source.http.checksum.sha512"),
    ("spec.dataSource.upload.checksum", "module", "source.upload.checksum"),
    ("spec.dataSource.containerImage.imagePullSecret", "module", "source.container_image.image_pull_secret"),
    ("spec.dataSource.http.checksum.sha512", "entry", "checksum.sha512"),
    ("spec.persistentVolumeClaim.storageClassName", "module", "storage_class"),
    ("spec.dataSource.http.checksum.sha512", "definition", "definition.spec.dataSource.http.checksum.sha512"),
    ("spec.somethingNew", "module", "spec.somethingNew"),
])
def test_option_for_names_the_users_option(field, style, option):
    assert option_for(field, style) == option


def test_message_names_option_field_and_way_out():
    text = unknown_field_message(VIRTUAL_IMAGE, ["spec.dataSource.http.checksum.sha512"], "module")
    assert text.startswith("source.http.checksum.sha512 (spec.dataSource.http.checksum.sha512): this cluster's "
                           "VirtualImage API has no such field")
    assert "nothing was stored" in text and "newer than DVP v1.10" in text and "(sha256 or md5)" in text


def test_without_and_has_leave_the_original_alone():
    manifest = {"spec": {"dataSource": {"type": "Upload", "upload": {"checksum": {"sha256": "a" * 64}}}}}
    trimmed = without(manifest, UPLOAD_CHECKSUM)
    assert has(manifest, UPLOAD_CHECKSUM) and not has(trimmed, UPLOAD_CHECKSUM)
    assert trimmed["spec"]["dataSource"] == {"type": "Upload", "upload": {}}


class Creates:
    """A client whose creates answer from a list (an ApiError is raised)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.bodies = []

    def create(self, collection, body, dry_run=False):
        self.bodies.append(body)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def upload_manifest():
    return {"metadata": {"name": "a", "namespace": "ns"},
            "spec": {"dataSource": {"type": "Upload", "upload": {"checksum": {"sha256": "a" * 64}}}}}


@pytest.mark.parametrize("refused", [UPLOAD_CHECKSUM, "spec.dataSource.upload"])  # v1.10 has no upload block
def test_an_upload_checksum_the_cluster_lacks_is_dropped_and_said(refused):
    client = Creates(refusal(refused), {"created": True})
    obj, platform_checks = create_image(client, VIRTUAL_IMAGE, upload_manifest(), "module", uploads=True)
    assert obj == {"created": True} and platform_checks is False
    assert client.bodies[1]["spec"]["dataSource"] == {"type": "Upload"}


def test_any_other_unknown_field_is_refused_naming_the_option():
    client = Creates(refusal("spec.dataSource.http.checksum.sha512"))
    with pytest.raises(FieldsUnknown, match=r"^source\.http\.checksum\.sha512 \("):
        create_image(client, VIRTUAL_IMAGE, upload_manifest(), "module", uploads=False)
    assert len(client.bodies) == 1


def live_upload(annotation=None):
    obj = {"metadata": {"name": "a", "namespace": "ns", "annotations": {}},
           "spec": {"dataSource": {"type": "Upload"}}, "status": {"phase": "Ready"}}
    if annotation:
        obj["metadata"]["annotations"]["virtualization.deckhouse.io/ansible-upload-checksum"] = annotation
    return obj


def test_a_recorded_upload_aligns_without_a_request():
    client = Creates()
    wanted, platform_checks = align_upload_checksum(
        client, VIRTUAL_IMAGE, upload_manifest(), live_upload('{"sha256":"%s","size":3}' % ("a" * 64)))
    assert not has(wanted, UPLOAD_CHECKSUM) and platform_checks is None and client.bodies == []


def test_without_a_record_a_dry_run_asks_the_server():
    lacking = Creates(refusal("spec.dataSource.upload"))
    wanted, platform_checks = align_upload_checksum(lacking, VIRTUAL_IMAGE, upload_manifest(), live_upload())
    assert not has(wanted, UPLOAD_CHECKSUM) and platform_checks is False and len(lacking.bodies) == 1
    knows = Creates(ApiError("exists", status=409, reason="AlreadyExists"))
    wanted, platform_checks = align_upload_checksum(knows, VIRTUAL_IMAGE, upload_manifest(), live_upload())
    assert has(wanted, UPLOAD_CHECKSUM) and platform_checks is None  # a real difference: decide() sees it
