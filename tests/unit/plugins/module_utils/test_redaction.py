# -*- coding: utf-8 -*-
"""Upload URLs never leave a module in an object it returns."""
from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image

SECRET = "k3c9x0q2m8v7b6n5a4s3d2f1g0h9j8k7"


def test_redact_image_hides_both_urls_and_leaves_the_input_alone() -> None:
    obj = {"metadata": {"name": "x"}, "status": {"phase": "WaitForUserUpload", "imageUploadURLs": {
        "external": "https://virtualization.example.com/upload/" + SECRET,
        "inCluster": "http://10.0.0.7/upload"}}}
    clean = redact_image(obj)
    assert SECRET not in str(clean) and "/upload" not in str(clean["status"]["imageUploadURLs"])
    assert clean["status"]["imageUploadURLs"]["external"] == "https://virtualization.example.com/<redacted>"
    assert SECRET in obj["status"]["imageUploadURLs"]["external"]          # a copy, not an edit
    assert redact_image(None) is None
    assert redact_image({"status": {"phase": "Ready"}}) == {"status": {"phase": "Ready"}}
