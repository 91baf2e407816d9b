"""A failure inside admission never passes unnoticed: a write answers 500 InternalError (and stores
nothing), discovery raises instead of publishing a permissive schema.

The API server runs in this process here (aiohttp's test server on a fresh state dir), so the
admission library can be made to fail on purpose.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sandbox.api import admission_bridge, discovery
from sandbox.api.admission import schema_for
from sandbox.api.errors import ApiError
from sandbox.api.ops import WriteContext
from sandbox.api.resources import by_kind
from sandbox.api.server import build_app
from sandbox.config import State

GROUP, VERSION = "virtualization.deckhouse.io", "v1alpha2"
VI_PATH = f"/apis/{GROUP}/{VERSION}/namespaces/default/virtualimages"
pytestmark = pytest.mark.filterwarnings("ignore:It is recommended to use web.AppKey")


class AdmissionBug(RuntimeError):
    """Stands for any bug in the admission library."""


def _broken_admit(req: Any) -> Any:
    raise AdmissionBug("schema walk fell over")


def _broken_schema(kind: str, platform: str = "dev") -> Any:
    raise AdmissionBug(f"no schema for {kind}")


def _vi(name: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualImage",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"storage": "ContainerRegistry",
                     "dataSource": {"type": "HTTP", "http": {"url": "https://example.com/disk.qcow2"}}}}


def _in_process_api(tmp_path: Path, calls: Any) -> Any:
    """Run `calls(client, headers)` against an API server built in this process."""
    state = State(tmp_path)
    state.ensure_dirs()
    state.ensure_port("api")
    headers = {"Authorization": f"Bearer {state.ensure_tokens()['admin']}"}

    async def main() -> Any:
        async with TestClient(TestServer(build_app(state))) as client:
            return await calls(client, headers)
    return asyncio.run(main())


def test_an_admission_bug_is_an_internal_error_not_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission_bridge, "_admit", _broken_admit)
    vi_type = by_kind(GROUP, "VirtualImage")
    assert vi_type is not None
    with pytest.raises(ApiError) as caught:
        admission_bridge.admit(vi_type, "CREATE", _vi("x"), None, None, WriteContext(user="admin"))
    status = caught.value.status
    assert (status["code"], status["reason"], status["status"]) == (500, "InternalError", "Failure")
    assert "AdmissionBug: schema walk fell over" in status["message"]


def test_a_write_answers_500_and_stores_nothing_when_admission_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def calls(client: TestClient, headers: dict[str, str]) -> tuple[int, Any, int]:
        monkeypatch.setattr(admission_bridge, "_admit", _broken_admit)
        resp = await client.post(VI_PATH, json=_vi("broken"), headers=headers)
        body = await resp.json()
        monkeypatch.undo()
        after = await client.get(f"{VI_PATH}/broken", headers=headers)
        return resp.status, body, after.status

    code, body, after = _in_process_api(tmp_path, calls)
    assert code == 500
    assert (body["kind"], body["status"], body["reason"], body["code"]) == ("Status", "Failure", "InternalError", 500)
    assert "admission of VirtualImage failed" in body["message"]
    assert after == 404


def test_a_write_is_admitted_when_admission_works(tmp_path: Path) -> None:
    async def calls(client: TestClient, headers: dict[str, str]) -> int:
        resp = await client.post(VI_PATH, json=_vi("fine"), headers=headers)
        return resp.status

    assert _in_process_api(tmp_path, calls) == 201


def test_discovery_raises_when_admission_has_no_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "schema_for", _broken_schema)
    with pytest.raises(AdmissionBug):
        discovery.openapi_v3_gv(GROUP, VERSION)


def test_the_openapi_document_answers_500_rather_than_a_permissive_schema(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def calls(client: TestClient, headers: dict[str, str]) -> int:
        monkeypatch.setattr(discovery, "schema_for", _broken_schema)
        resp = await client.get(f"/openapi/v3/apis/{GROUP}/{VERSION}", headers=headers)
        return resp.status

    assert _in_process_api(tmp_path, calls) == 500


def test_every_custom_kind_publishes_admissions_schema() -> None:
    doc = discovery.openapi_v3_gv(GROUP, VERSION)
    assert doc is not None
    schemas = {name.rsplit(".", 1)[-1]: s for name, s in doc["components"]["schemas"].items()}
    for kind, published in schemas.items():
        expected = dict(schema_for(kind))
        assert {k: v for k, v in published.items() if k != "x-kubernetes-group-version-kind"} == expected
