"""common/checks.py: input checks on labels/annotations (keys, and label values), on CA files (readable, PEM text)
and on sizes: each failure names the option."""
from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import (
    check_metadata_keys, check_pem_file, check_size,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError


@pytest.mark.parametrize("labels", [{"tier": "gold"}, {"virtualization.deckhouse.io/ansible-catalog": "base"},
                                    {"a": ""}, {"x.y/z_1": "v-1.2_3"}])
def test_good_labels_pass(labels):
    check_metadata_keys(labels, "labels", values_too=True)


@pytest.mark.parametrize("labels, words", [({"bad key!": "x"}, "key 'bad key!'"), ({"Foo.Bar/x": "y"}, "key 'Foo.Bar/x'"),
                                           ({"k" * 64: "v"}, "is invalid"), ({"ok": "bad value!"}, "value of 'ok'")])
def test_bad_labels_name_the_option(labels, words):
    with pytest.raises(ValidationError, match="^labels: ") as err:
        check_metadata_keys(labels, "labels", values_too=True)
    assert words in err.value.msg


def test_annotation_values_are_free_text():
    check_metadata_keys({"sandbox.deckhouse.io/note": "any text, even spaces!"}, "annotations", values_too=False)


def test_ca_file_must_hold_pem(tmp_path):
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not pem")
    with pytest.raises(ValidationError, match=r"^ca_cert \(.*ca.pem\) must be PEM text"):
        check_pem_file(str(garbage), "ca_cert")
    with pytest.raises(ValidationError, match="^upload_ca_cert .* is not a readable file"):
        check_pem_file(str(tmp_path / "missing.pem"), "upload_ca_cert")
    check_pem_file(None, "ca_cert")


@pytest.mark.parametrize("size,message", [("-1Gi", "greater than 0"), ("0", "greater than 0"),
                                          ("ten", "a size like 10Gi"), ("1.5", "whole number of bytes"),
                                          ("10GB", "a size like 10Gi")])
def test_bad_sizes_name_the_option(size, message):
    with pytest.raises(ValidationError) as err:
        check_size(size, "size")
    assert err.value.msg.startswith("size ") and message in err.value.msg
