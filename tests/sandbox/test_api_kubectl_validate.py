"""kubectl's --validate modes against both platform lines, as against a real cluster.

kubectl finds `fieldValidation` among the query parameters of the resource's paths in the
server's /openapi/v3 document, so it sends fieldValidation=Strict (default, --validate=strict),
Warn (--validate=warn) or Ignore (--validate=false) and leaves the check to the server.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest

from conformance.gate import unavailable

from sandbox.handle import Sandbox

pytestmark = pytest.mark.kubectl
KUBECTL = shutil.which("kubectl")
SHA512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"


@pytest.fixture
def kubectl(line_sandbox: Sandbox) -> Any:
    if not KUBECTL:
        unavailable("kubectl not installed")
    env = {**os.environ, "KUBECONFIG": line_sandbox.kubeconfig}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
    return run


def _manifest(ns: str, name: str, checksum: str) -> str:
    return (f"apiVersion: virtualization.deckhouse.io/v1alpha2\nkind: VirtualImage\nmetadata:\n  name: {name}\n"
            f"  namespace: {ns}\nspec:\n  storage: ContainerRegistry\n  dataSource:\n    type: HTTP\n    http:\n"
            f"      url: https://example.com/disk.qcow2\n      checksum:\n{checksum}")


@pytest.mark.parametrize("verb", [("create",), ("apply",)])
def test_validate_modes(kubectl: Any, line_sandbox: Sandbox, line_ns: str, verb: tuple[str, ...]) -> None:
    unknown = "        sha3: ab\n"                 # unknown on both lines
    strict = kubectl(*verb, "-f", "-", stdin=_manifest(line_ns, "s", unknown))
    assert strict.returncode != 0
    assert ('VirtualImage in version "v1alpha2" cannot be handled as a VirtualImage: strict decoding error: '
            'unknown field "spec.dataSource.http.checksum.sha3"') in strict.stderr
    assert kubectl("get", "vi", "s", "-n", line_ns).returncode != 0                 # nothing stored

    warn = kubectl(*verb, "--validate=warn", "-f", "-", stdin=_manifest(line_ns, "w", unknown))
    assert warn.returncode == 0, warn.stderr
    assert 'Warning: unknown field "spec.dataSource.http.checksum.sha3"' in warn.stderr

    quiet = kubectl(*verb, "--validate=false", "-f", "-", stdin=_manifest(line_ns, "q", unknown))
    assert quiet.returncode == 0 and "Warning" not in quiet.stderr, quiet.stderr
    got = kubectl("get", "vi", "q", "-n", line_ns, "-o", "jsonpath={.spec.dataSource.http.checksum}").stdout
    assert got in ("{}", "")                                                            # dropped


def test_sha512_on_each_line(kubectl: Any, line_sandbox: Sandbox, line_ns: str) -> None:
    out = kubectl("apply", "-f", "-", stdin=_manifest(line_ns, "h", f"        sha512: {SHA512}\n"))
    if line_sandbox.platform == "dev":
        assert out.returncode == 0, out.stderr
    else:
        assert out.returncode != 0
        assert 'unknown field "spec.dataSource.http.checksum.sha512"' in out.stderr
        ssa = kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(line_ns, "h", f"        sha512: {SHA512}\n"))
        assert ssa.returncode != 0
        assert ("Error from server: failed to create typed patch object "
                f"({line_ns}/h; virtualization.deckhouse.io/v1alpha2, Kind=VirtualImage): "
                ".spec.dataSource.http.checksum.sha512: field not declared in schema") in ssa.stderr
