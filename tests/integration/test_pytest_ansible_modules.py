"""Modules driven through pytest-ansible's fixtures: one task per call, in this process, no playbook file.

The plugin's host manager is built from an inventory of our own (localhost, local connection, this
interpreter); each `localhost.<module>(...)` call runs one task through Ansible's task queue and returns
its result. The collection: started from the repository root, pytest-ansible finds galaxy.yml and configures
Ansible's collection finder (once per process) with a `collections/ansible_collections/deckhouse/virtualization`
link tree of the checkout it makes there; started elsewhere (no finder yet), the fixture puts
`.build/collections` in front of the paths the dispatcher hands to the finder on its first call.

The API server's own view (the session sandbox's admin client) checks what the module says it did.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

FQCN = "deckhouse.virtualization"


@pytest.fixture(scope="module")
def localhost(collections_root: Path, tmp_path_factory: pytest.TempPathFactory, request: Any) -> Iterator[Any]:
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from pytest_ansible.module_dispatcher import v213

    if AnsibleCollectionConfig.collection_finder is None:
        saved = v213.COLLECTIONS_PATHS
        v213.COLLECTIONS_PATHS = [str(collections_root)] + list(saved)
        request.addfinalizer(lambda: setattr(v213, "COLLECTIONS_PATHS", saved))
    else:
        module = Path("ansible_collections", *FQCN.split("."), "plugins", "modules", "virtual_image.py")
        found = [p for p in AnsibleCollectionConfig.collection_paths if (Path(p) / module).is_file()]
        assert found, "Ansible's collection finder has no %s: %s" % (FQCN, AnsibleCollectionConfig.collection_paths)
    inventory = tmp_path_factory.mktemp("pytest-ansible") / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: %s\n" % sys.executable)
    plugin = request.config.pluginmanager.getplugin("ansible")
    manager = plugin.initialize(request.config, request, inventory=str(inventory), connection="local",
                                host_pattern="localhost")
    yield manager.localhost


def _run(localhost: Any, module: str, **args: Any) -> Dict[str, Any]:
    """One task of `deckhouse.virtualization.<module>` on localhost: its result. (The dispatcher that
    `getattr` returns keeps the module name in options it shares with the host manager, so it is
    fetched right before each call.)"""
    contacted = getattr(localhost, "%s.%s" % (FQCN, module))(**args).contacted
    assert list(contacted) == ["localhost"], contacted
    return dict(contacted["localhost"])


def test_virtual_image_create_then_info_then_rerun(localhost: Any, sandbox: Any, k8s: Any, namespace: str,
                                                   sources: Dict[str, str]) -> None:
    args = {"name": "adhoc-qcow2", "namespace": namespace, "kubeconfig": sandbox.kubeconfig,
            "source": {"http": {"url": sources["qcow2"]}}, "wait_timeout": 60}

    created = _run(localhost, "virtual_image", **args)
    assert not created.get("failed"), created
    assert created["changed"] is True
    vi_api = k8s.resources.get(api_version="virtualization.deckhouse.io/v1alpha2", kind="VirtualImage")
    live = vi_api.get(name="adhoc-qcow2", namespace=namespace).to_dict()
    assert live["status"]["phase"] == "Ready"
    assert live["spec"]["dataSource"]["http"]["url"] == sources["qcow2"]

    listed = _run(localhost, "virtual_image_info", namespace=namespace, kubeconfig=sandbox.kubeconfig)
    assert not listed.get("failed"), listed
    assert [(s["name"], s["phase"]) for s in listed["summary"]] == [("adhoc-qcow2", "Ready")]
    assert listed["summary"][0]["format"] == "qcow2"

    again = _run(localhost, "virtual_image", **args)
    assert not again.get("failed") and again["changed"] is False, again
    assert vi_api.get(name="adhoc-qcow2", namespace=namespace).metadata.resourceVersion == \
        live["metadata"]["resourceVersion"]


def test_a_refused_option_fails_the_task_and_writes_nothing(localhost: Any, sandbox: Any, k8s: Any,
                                                            namespace: str) -> None:
    failed = _run(localhost, "virtual_image", name="adhoc-bad", namespace=namespace, kubeconfig=sandbox.kubeconfig,
                  source={"http": {"url": "ftp://example.invalid/disk.img"}})
    assert failed.get("failed") is True, failed
    assert "url" in failed["msg"], failed["msg"]
    vi_api = k8s.resources.get(api_version="virtualization.deckhouse.io/v1alpha2", kind="VirtualImage")
    assert vi_api.get(namespace=namespace).items == []
