# -*- coding: utf-8 -*-
"""catalog/report.py: one result row per planned object, and the summary table printed from them."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import plan
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.report import result_row, table
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.catalog import wanted


def test_table_has_one_line_per_row_and_failure_messages():
    objs = wanted([{"name": "good", "url": "https://h/g"}, {"name": "bad", "url": "https://h/b"}], namespaces=["a"])
    actions = plan(objs, {}, "base")
    ready = {"status": {"phase": "Ready", "format": "qcow2", "size": {"unpacked": "4Mi", "stored": "1Mi"}}}
    rows = [result_row(actions[0], ready, True, "", 1.25, [], False),
            result_row(actions[1], {"status": {"phase": "Failed"}}, True, "VirtualImage a/bad: phase Failed: 404",
                       0.5, [], False)]
    assert rows[0]["result"] == "created" and rows[0]["size"] == "4Mi" and rows[0]["stored_size"] == "1Mi"
    assert rows[1]["result"] == "failed"
    lines = table(rows)
    assert lines[0].split() == ["NAMESPACE", "IMAGE", "RESULT", "PHASE", "SIZE", "FORMAT", "TIME"]
    assert lines[1].split() == ["a", "good", "created", "Ready", "4Mi", "qcow2", "1.2s"]
    assert lines[2].split() == ["a", "bad", "failed", "Failed", "-", "-", "0.5s"]
    assert lines[3] == "  ! VirtualImage a/bad: phase Failed: 404"
