"""A namespace that does not exist is said so first, in every namespaced module, before any write."""
from __future__ import annotations

from typing import Any, Dict

MODULES: Dict[str, Dict[str, Any]] = {
    "virtual_image": {"name": "img", "source": {"http": {"url": "https://files.example.com/a.qcow2"}}},
    "virtual_disk": {"name": "disk", "size": "8Mi"},
    "virtual_disk_snapshot": {"name": "snap", "disk": "disk"},
    "virtual_image_info": {},
    "virtual_disk_info": {},
    "virtual_machine_operation": {"name": "vm", "type": "Restart"},
}


def test_every_namespaced_module_names_a_missing_namespace_before_any_write(play, sandbox):
    ghost = "no-such-namespace-x1"
    sandbox.clear_audit()
    run = play([{"deckhouse.virtualization.%s" % mod: dict(opts, namespace=ghost), "register": mod.replace(".", "_"),
                 "ignore_errors": True} for mod, opts in MODULES.items()])
    for mod in MODULES:
        result = run[mod]
        assert result.get("failed") is True, (mod, result)
        assert result["msg"] == ("namespace: namespace %s does not exist; create it first (kind: Namespace) or name "
                                 "an existing one; nothing was written" % ghost), (mod, result["msg"])
    # the modules' requests (the kubeconfig's admin): the controller's events about earlier tests' objects are not theirs
    ours = [i for i in sandbox.audit() if i.get("user") == "admin"]
    assert ours, "the audit shows the modules' reads"
    writes = [i for i in ours if i["verb"] not in ("get", "list", "watch")]
    assert writes == []
    lists = [i for i in ours if i["verb"] == "list"]
    assert lists == [], "the info modules stop before listing"
