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


def test_redact_urls_hides_queries_and_user_information_of_whole_url_values_only() -> None:
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_urls
    given = {"image": {"spec": {"dataSource": {"http": {"url": "https://h:8/a/d.qcow2?token=s3cret"}}}},
             "list": ["https://user:pw@h/x", "https://h/plain", "a message about https://h/x?q=1"],
             "n": 3}
    shown = redact_urls(given)
    assert shown == {"image": {"spec": {"dataSource": {"http": {"url": "https://h:8/a/d.qcow2?<redacted>"}}}},
                     "list": ["https://h/x", "https://h/plain", "a message about https://h/x?q=1"], "n": 3}
    assert given["image"]["spec"]["dataSource"]["http"]["url"].endswith("s3cret")     # the input is left alone
