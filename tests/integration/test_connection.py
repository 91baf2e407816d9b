"""Where the modules take their connection from: K8S_AUTH_* variables, module_defaults, the ``connection`` dict."""
from __future__ import annotations

INFO = "deckhouse.virtualization.virtual_image_info"
MOD = "deckhouse.virtualization.virtual_image"


def test_k8s_auth_environment_and_the_connection_dict(play, sandbox, namespace, sources, admin_writes):
    image = {"name": "conn", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}, "wait": False}
    run = play([
        {INFO: {"namespace": namespace}, "register": "from_env"},
        {MOD: dict(image, connection={"context": "dvp-sandbox-viewer"}), "register": "dict_wins",
         "ignore_errors": True},
        {MOD: dict(image, context="dvp-sandbox-viewer", connection={"context": None, "kubeconfig": None}),
         "register": "null_keeps", "ignore_errors": True},
    ], defaults={"kubeconfig": None}, env={"K8S_AUTH_KUBECONFIG": sandbox.kubeconfig})
    assert run["from_env"]["failed"] is False and run["from_env"]["images"] == []
    for name in ("dict_wins", "null_keeps"):
        assert "Forbidden (403)" in run[name]["msg"], (name, run[name])
    assert admin_writes(namespace) == []
