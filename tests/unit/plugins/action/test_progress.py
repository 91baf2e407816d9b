# -*- coding: utf-8 -*-
"""Every action plugin hands its module a progress file and prints it at -v, only where it can be tailed."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.deckhouse.virtualization.plugins.action import (
    cluster_virtual_image, image_catalog_apply, virtual_image, virtual_image_upload,
)
from ansible_collections.deckhouse.virtualization.plugins.plugin_utils import module_action, progress_tail

PLUGINS = (virtual_image, cluster_virtual_image, virtual_image_upload, image_catalog_apply)


@pytest.fixture
def verbose(monkeypatch):
    monkeypatch.setattr(module_action.display, "verbosity", 1)


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda plugin: plugin.__name__.rsplit(".", 1)[-1])
def test_progress_file_given_at_v_on_the_controller_and_removed(plugin, verbose, run_action):
    ran = run_action(plugin, {"name": "a"}, watch=("progress_file",))
    assert ran.existed["progress_file"] and not os.path.exists(ran.args["progress_file"])


@pytest.mark.parametrize("how", [{"transport": "ssh"}, {"async_val": 60}])
def test_no_progress_file_where_it_cannot_be_tailed(how, verbose, run_action):
    assert "progress_file" not in run_action(virtual_image_upload, {"name": "a"}, **how).args


def test_no_progress_file_without_v(run_action, monkeypatch):
    monkeypatch.setattr(module_action.display, "verbosity", 0)
    assert "progress_file" not in run_action(image_catalog_apply, {"namespaces": ["n"]}).args


@pytest.mark.parametrize("level", [0, 1])
def test_a_progress_file_given_in_the_task_is_dropped(level, run_action, monkeypatch, tmp_path):
    """The option is internal: the module gets the plugin's file (at -v) or none, never the task's."""
    monkeypatch.setattr(module_action.display, "verbosity", level)
    mine = str(tmp_path / "mine.jsonl")
    for how in ({}, {"transport": "ssh"}, {"async_val": 60}):
        given = run_action(virtual_image, {"name": "a", "progress_file": mine}, **how).args.get("progress_file")
        assert given != mine, how
        assert (given is not None) == (level == 1 and not how), how
    assert not os.path.exists(mine)


def test_tail_prints_complete_lines_only(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(progress_tail.display, "v", shown.append)
    path = tmp_path / "progress.jsonl"
    path.write_text(json.dumps({"line": "VirtualImage n/a: Pending"}) + "\nnot json\n" + '{"line": "half')
    tail = progress_tail.ProgressTail(str(path))
    tail.drain()
    assert shown == ["VirtualImage n/a: Pending"]
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(' written"}\n')
    tail.drain()
    assert shown == ["VirtualImage n/a: Pending", "half written"]
