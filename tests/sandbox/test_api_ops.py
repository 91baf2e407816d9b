"""Persistence across an API restart, fault injection (500/429/latency/cut watches), audit."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

VI_API = "virtualization.deckhouse.io/v1alpha2"


def test_restart_keeps_objects_and_resource_versions(api_sandbox: Any, ns: str, vi: Any) -> None:
    res = api_sandbox.dynamic_client().resources.get(api_version=VI_API, kind="VirtualImage")
    made = res.create(body=vi("keep", ns, labels={"x": "1"}), namespace=ns)
    old_pid = api_sandbox.info and open(api_sandbox.state.pid_path("api")).read().split()[0]
    api_sandbox.restart("api")
    assert open(api_sandbox.state.pid_path("api")).read().split()[0] != old_pid
    res = api_sandbox.dynamic_client().resources.get(api_version=VI_API, kind="VirtualImage")
    again = res.get(name="keep", namespace=ns)
    assert again.metadata.uid == made.metadata.uid
    assert again.metadata.resourceVersion == made.metadata.resourceVersion
    created = [e for e in api_sandbox.audit() if e.get("verb") == "create"
               and e.get("resource") == "virtualimages" and e.get("namespace") == ns]
    assert [e["code"] for e in created] == [201]                     # the audit survives the restart too
    after = res.patch(name="keep", namespace=ns, content_type="application/merge-patch+json",
                      body={"metadata": {"labels": {"x": "2"}}})
    assert int(after.metadata.resourceVersion) > int(made.metadata.resourceVersion)


def _codes(api_sandbox: Any, n: int) -> list[tuple[int, dict[str, str]]]:
    out = []
    for _ in range(n):
        code, headers, _ = api_sandbox.request("GET", "/api/v1/namespaces/default")
        out.append((code, headers))
    return out


def test_error_and_throttle_rates(api_sandbox: Any) -> None:
    api_sandbox.set_faults(error_rate=1.0)
    code, _, body = api_sandbox.request("GET", "/api/v1/namespaces")
    assert code == 500 and body["reason"] == "InternalError"
    assert api_sandbox.request("GET", "/sandbox/faults")[0] == 200       # /sandbox/* unaffected
    api_sandbox.set_faults(error_rate=0.0, throttle_rate=1.0, retry_after=2)
    code, headers, body = api_sandbox.request("GET", "/api/v1/namespaces")
    assert code == 429 and headers["Retry-After"] == "2" and body["reason"] == "TooManyRequests"
    api_sandbox.set_faults(throttle_rate=0.0, error_rate=0.5)
    codes = [c for c, _ in _codes(api_sandbox, 60)]
    assert 10 < codes.count(500) < 50 and codes.count(200) == 60 - codes.count(500)
    api_sandbox.set_faults(clear=True)
    assert all(c == 200 for c, _ in _codes(api_sandbox, 10))


def test_deterministic_faults_for_one_user(api_sandbox: Any) -> None:
    """error_every/throttle_every hit exactly the n-th request of the users named in only_users."""
    api_sandbox.set_faults(only_users=["admin"], error_every=3, throttle_every=4)
    codes = [c for c, _ in _codes(api_sandbox, 12)]
    assert codes == [200, 200, 500, 429, 200, 500, 200, 429, 500, 200, 200, 500]
    code, _, _ = api_sandbox.request("GET", "/api/v1/namespaces", user="viewer")
    assert code == 200                                              # another user is not counted
    code, _, body = api_sandbox.request("PUT", "/sandbox/faults", {"error_every": -1})
    assert code == 400 and "error_every" in body["message"]


def test_only_verbs_latency_and_watch_cut(api_sandbox: Any, ns: str) -> None:
    api_sandbox.set_faults(error_rate=1.0, only_verbs=["create"])
    assert api_sandbox.request("GET", "/api/v1/namespaces")[0] == 200
    code, _, _ = api_sandbox.request("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                     {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "f"}})
    assert code == 500
    api_sandbox.set_faults(clear=True, latency=0.3)
    t0 = time.monotonic()
    api_sandbox.request("GET", "/api/v1/namespaces")
    assert time.monotonic() - t0 >= 0.3
    api_sandbox.set_faults(clear=True, watch_cut=0.5)
    t0 = time.monotonic()
    code, _, _ = api_sandbox.request("GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1&timeoutSeconds=30")
    assert code == 200 and time.monotonic() - t0 < 5


def test_faults_via_cli_and_validation(api_sandbox: Any) -> None:
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "sandbox", "--state-dir", str(api_sandbox.state_dir),
                          "faults", "--set", "throttle_rate=0.25"], capture_output=True, text=True,
                         check=True, cwd=str(Path(__file__).resolve().parents[2]))
    assert json.loads(out.stdout)["throttle_rate"] == 0.25
    assert api_sandbox.faults()["throttle_rate"] == 0.25
    code, _, body = api_sandbox.request("PUT", "/sandbox/faults", {"error_rate": 3})
    assert code == 400
    code, _, body = api_sandbox.request("PUT", "/sandbox/faults", {"nonsense": 1})
    assert code == 400 and "unknown fault settings" in body["message"]


def test_audit_counts_writes(api_sandbox: Any, ns: str) -> None:
    api_sandbox.clear_audit()
    path = f"/api/v1/namespaces/{ns}/configmaps"
    api_sandbox.request("POST", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "au"}})
    api_sandbox.request("GET", path + "/au")
    api_sandbox.request("POST", path + "?dryRun=All",
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "au2"}})
    entries = api_sandbox.audit()
    assert [(e["verb"], e["name"], e["dryRun"], e["code"]) for e in entries] == [
        ("create", "", False, 201), ("get", "au", False, 200), ("create", "", True, 201)]
    assert {e["resource"] for e in entries} == {"configmaps"} and {e["namespace"] for e in entries} == {ns}
    assert all(e["user"] == "admin" and e["time"] for e in entries)


def test_supervisor_start_flags_status_and_down(tmp_path: Path) -> None:
    """A second sandbox: faults given at start apply from the first request; down stops by PID."""
    from sandbox import supervisor
    from sandbox.config import free_port
    from sandbox.handle import Sandbox
    port = free_port()
    sb = Sandbox(tmp_path / "sb").up(no_controller=True, api_port=port, faults={"error_rate": 1.0})
    try:
        assert sb.api_url == f"https://127.0.0.1:{port}"
        code, _, _ = sb.request("GET", "/api/v1/namespaces")
        assert code == 500
        assert "running pid" in supervisor.status(sb.state)
        pid = supervisor.running_pid(sb.state, "api")
    finally:
        assert "api" in sb.down()
    assert not sb.running() and not sb.state.pid_path("api").exists()
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    assert sb.down() == "nothing was running"


def test_audit_file_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    """A long-lived sandbox must not grow its audit file without bound, nor lose the newest entries."""
    from sandbox.api.audit import Audit

    path = tmp_path / "audit.jsonl"
    audit = Audit(path, limit=3)
    for n in range(7):
        audit.record({"n": n})
    assert len(path.read_text().splitlines()) < 6
    assert [e["n"] for e in Audit(path, limit=3).items()] == [4, 5, 6]
    audit.record({"n": 7})
    assert [e["n"] for e in Audit(path, limit=3).items()] == [5, 6, 7]
