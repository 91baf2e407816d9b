"""TLS: an API server or upload endpoint whose certificate the given CA does not sign fails clearly, naming
the option to fix; validate_certs: false / upload_validate_certs: false goes through with a warning."""
from __future__ import annotations

import ssl
from pathlib import Path

NS = "deckhouse.virtualization."
VI, UP = NS + "virtual_image", NS + "virtual_image_upload"


def test_unknown_ca_fails_clearly_and_validate_certs_false_warns(play, kube, namespace, sources, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt").read_text())
    kube.upload_image(namespace, "upl")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 4096)
    image = {"name": "tls", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}}
    run = play([
        {VI: dict(image, ca_cert=str(other_ca)), "register": "api_unknown", "ignore_errors": True},
        {VI: dict(image, validate_certs=False), "register": "api_insecure"},
        {UP: {"name": "upl", "namespace": namespace, "path": str(disk), "upload_ca_cert": str(other_ca),
              "endpoint": "external"},
         "register": "up_unknown", "ignore_errors": True},
        {UP: {"name": "upl", "namespace": namespace, "path": str(disk), "upload_validate_certs": False,
              "endpoint": "external"},
         "register": "up_insecure"},
    ])
    assert "CERTIFICATE_VERIFY_FAILED" in run["api_unknown"]["msg"] or "certificate" in run["api_unknown"]["msg"]
    assert run["api_unknown"]["msg"].startswith("cannot talk to the API server")
    assert run["api_insecure"]["changed"] is True
    assert any("validate_certs" in w for w in run["api_insecure"].get("warnings", [])), run["api_insecure"]
    assert "certificate" in run["up_unknown"]["msg"] and "upload_ca_cert" in run["up_unknown"]["msg"], \
        run["up_unknown"]
    assert run["up_insecure"]["changed"] is True
    assert any("upload_validate_certs" in w for w in run["up_insecure"].get("warnings", [])), run["up_insecure"]
