# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The info modules' typed request: built once from checked options, the parameters left as they were."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_DISK, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.info import disk_query, image_query


def test_an_image_query_carries_every_option_and_leaves_the_parameters_alone():
    params = {"namespace": "ns", "name": "a", "label_selectors": ["x=y", "z"], "phase": ["Ready"],
              "track": "noble", "catalog": "gold", "cluster": False}
    given = copy.deepcopy(params)
    query = image_query(params)
    assert params == given
    assert (query.kind, query.namespace, query.name, query.label_selectors, query.phases, query.track,
            query.catalog) == (VIRTUAL_IMAGE, "ns", "a", ("x=y", "z"), ("Ready",), "noble", "gold")
    assert query.selector == "x=y,z"


def test_cluster_images_and_disks_are_their_own_kinds():
    assert image_query({"cluster": True}).kind == CLUSTER_VIRTUAL_IMAGE
    disks = disk_query({"namespace": "ns", "phase": ["Ready"], "track": "ignored", "catalog": "ignored"})
    assert (disks.kind, disks.namespace, disks.phases) == (VIRTUAL_DISK, "ns", ("Ready",))
    assert disks.selector is None and disks.track is None and disks.catalog is None


@pytest.mark.parametrize("params, message", [
    ({"cluster": True, "namespace": "n"}, "namespace cannot be used with cluster: true"),
    ({"track": "noble"}, "track needs namespace"),
    ({"namespace": "n", "track": "No_Track"}, "track 'No_Track' is not the name of a track"),
    ({"catalog": "Gold!"}, "catalog 'Gold!' is not the name of a catalog"),
    ({"namespace": "Bad_NS"}, "Bad_NS"),
    ({"name": "a.b"}, "'.' is forbidden"),
])
def test_bad_options_are_refused_naming_the_option(params, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        image_query(params)


def test_a_disk_name_is_checked_as_a_disk_name():
    with pytest.raises(ValidationError, match="the VirtualDisk name 'a.b' is invalid"):
        disk_query({"name": "a.b"})
