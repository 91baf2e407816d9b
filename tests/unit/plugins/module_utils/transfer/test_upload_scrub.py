# -*- coding: utf-8 -*-
"""Upload URLs are credentials: every one seen is redacted from messages and errors."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_scrub import UrlScrubber

GIVEN = "https://203.0.113.1/upload/given-secret"
SHORT = "https://203.0.113.2/upload/s3cr3t"
LONG = SHORT + "-and-more"


def test_the_given_and_every_published_url_are_redacted_the_longest_first():
    urls = UrlScrubber(GIVEN)
    urls.remember({"status": {"imageUploadURLs": {"external": SHORT, "inCluster": LONG}}})
    urls.remember({"status": {"imageUploadURLs": {"external": SHORT}}})
    assert urls.known == [GIVEN, SHORT, LONG]
    text = urls.scrub("to %s, %s and %s" % (GIVEN, LONG, SHORT))
    assert "secret" not in text and "s3cr3t" not in text and "-and-more" not in text
    host1, host2 = "https://203.0.113.1/<redacted>", "https://203.0.113.2/<redacted>"
    assert text == "to %s, %s and %s" % (host1, host2, host2)


def test_an_error_is_scrubbed_in_place_message_and_object():
    urls = UrlScrubber(None)
    obj = {"status": {"imageUploadURLs": {"external": SHORT}}}
    urls.remember(obj)
    error = ObjectFailed("cannot reach %s" % SHORT, image=obj)
    urls.scrub_error(error)
    assert "s3cr3t" not in error.msg and error.args == (error.msg,)
    assert error.details["image"]["status"]["imageUploadURLs"]["external"] == "https://203.0.113.2/<redacted>"
    assert obj["status"]["imageUploadURLs"]["external"] == SHORT   # the object itself is left as it was
