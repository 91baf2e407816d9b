# -*- coding: utf-8 -*-
"""The connection options, kubeconfig files and the service account read into one Endpoint, without the
kubernetes library unless a user's credentials come from a plugin."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys

import pytest
import yaml

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api import endpoint as ep
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError


def _kubeconfig(path, clusters=(), users=(), contexts=(), current=None):
    doc = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": n, "cluster": c} for n, c in clusters],
           "users": [{"name": n, "user": u} for n, u in users],
           "contexts": [{"name": n, "context": {"cluster": c, "user": u}} for n, c, u in contexts]}
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_kubeconfig_files_merge_as_kubectl_merges_them(tmp_path, monkeypatch):
    first = _kubeconfig(tmp_path / "a", clusters=[("c", {"server": "http://first:1"})], users=[("u", {"token": "t1"})],
                        contexts=[("ctx", "c", "u")], current="ctx")
    second = _kubeconfig(tmp_path / "b", clusters=[("c", {"server": "http://second:2"}), ("d", {"server": "http://d:3"})],
                         users=[("u", {"token": "t2"})], contexts=[("other", "d", "u")], current="other")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, str(tmp_path / "missing"), second]))
    current = ep.endpoint_for({})
    assert (current.host, current.authorization()) == ("http://first:1", "Bearer t1")    # first current-context
    other = ep.endpoint_for({"context": "other"})
    assert (other.host, other.authorization()) == ("http://d:3", "Bearer t1")     # first user named u wins


def test_paths_are_relative_to_their_file_and_data_is_written_privately(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "ca.pem").write_text("CA")
    (folder / "token").write_text("from-file\n")
    key = base64.b64encode(b"KEY").decode()
    path = _kubeconfig(folder / "config", clusters=[("c", {"server": "https://api:6443/", "certificate-authority": "ca.pem"})],
                       users=[("u", {"tokenFile": "token", "client-certificate-data": base64.b64encode(b"CERT").decode(),
                                     "client-key-data": key, "username": "x", "password": "y"})],
                       contexts=[("ctx", "c", "u")], current="ctx")
    found = ep.endpoint_for({"kubeconfig": path})
    assert found.host == "https://api:6443"
    assert found.ca_file == str(folder / "ca.pem")
    assert open(found.cert_file, "rb").read() == b"CERT" and open(found.key_file, "rb").read() == b"KEY"
    assert stat.S_IMODE(os.stat(found.key_file).st_mode) == 0o600
    assert found.authorization() == "Bearer from-file"      # a token wins over a password


def test_a_plain_http_server_reads_no_certificate_files(tmp_path):
    path = _kubeconfig(tmp_path / "config", clusters=[("c", {"server": "http://api:8080", "certificate-authority": "gone.pem"})],
                       users=[("u", {"username": "ann", "password": "pw"})], contexts=[("ctx", "c", "u")], current="ctx")
    found = ep.endpoint_for({"kubeconfig": path})
    assert found.ca_file is None
    assert found.authorization() == "Basic " + base64.b64encode(b"ann:pw").decode()


def test_options_win_over_the_kubeconfig(tmp_path):
    path = _kubeconfig(tmp_path / "config", clusters=[("c", {"server": "https://api", "insecure-skip-tls-verify": True})],
                       users=[("u", {"token": "kube"})], contexts=[("ctx", "c", "u")], current="ctx")
    assert ep.endpoint_for({"kubeconfig": path}).verify is False
    found = ep.endpoint_for({"kubeconfig": path, "validate_certs": True, "api_key": "mine", "host": "https://other",
                             "impersonate_user": "bob", "impersonate_groups": ["a", "b"],
                             "proxy_headers": {"proxy_basic_auth": "p:q"}})
    assert (found.host, found.verify, found.authorization()) == ("https://other", True, "Bearer mine")
    assert found.headers == {"Impersonate-User": "bob", "Impersonate-Group": "a,b"}
    assert found.proxy_headers == {"Proxy-Authorization": "Basic " + base64.b64encode(b"p:q").decode()}


def test_host_alone_reads_no_kubeconfig(monkeypatch, tmp_path):
    (tmp_path / "broken").write_text(": not yaml [")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "broken"))
    found = ep.endpoint_for({"host": "https://api:6443", "api_key": "t"})
    assert (found.host, found.authorization(), found.ca_file) == ("https://api:6443", "Bearer t", None)


@pytest.mark.parametrize("params, words", [
    ({"context": "nope"}, "context 'nope' not found"),
    ({}, "no current-context; give context"),
])
def test_what_is_missing_is_named(tmp_path, params, words):
    path = _kubeconfig(tmp_path / "config", clusters=[("c", {"server": "http://api"})], contexts=[("ctx", "c", "u")])
    with pytest.raises(ApiError) as err:
        ep.endpoint_for(dict(params, kubeconfig=path))
    assert words in err.value.msg and err.value.reason == "ConfigError"


def test_a_given_kubeconfig_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ApiError) as err:
        ep.endpoint_for({"kubeconfig": str(tmp_path / "none")})
    assert "no file" in err.value.msg


def test_without_kubeconfig_the_service_account_is_used_and_its_token_read_fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setattr(ep, "SERVICE_ACCOUNT", str(tmp_path))
    (tmp_path / "token").write_text("one\n")
    (tmp_path / "ca.crt").write_text("CA")
    found = ep.endpoint_for({})
    assert (found.host, found.ca_file, found.authorization()) == ("https://[fd00::1]:443", str(tmp_path / "ca.crt"),
                                                                  "Bearer one")
    (tmp_path / "token").write_text("two\n")       # the kubelet rotated it
    assert found.authorization() == "Bearer two"
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(ApiError) as err:
        ep.endpoint_for({})
    assert "no cluster to talk to" in err.value.msg


def test_an_exec_plugin_user_gets_its_token_from_the_plugin(tmp_path):
    pytest.importorskip("kubernetes")
    plugin = tmp_path / "plugin.py"
    plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                      "'kind': 'ExecCredential', 'status': {'token': 'from-plugin'}}))\n")
    path = _kubeconfig(tmp_path / "config", clusters=[("c", {"server": "http://api:8080"})],
                       users=[("u", {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                                              "args": [str(plugin)], "interactiveMode": "Never"}})],
                       contexts=[("ctx", "c", "u")], current="ctx")
    found = ep.endpoint_for({"kubeconfig": path})
    assert (found.host, found.authorization()) == ("http://api:8080", "Bearer from-plugin")


def test_an_exec_plugin_user_without_the_library_is_told_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    path = _kubeconfig(tmp_path / "config", clusters=[("c", {"server": "http://api"})],
                       users=[("u", {"auth-provider": {"name": "oidc"}})], contexts=[("ctx", "c", "u")], current="ctx")
    with pytest.raises(ApiError) as err:
        ep.endpoint_for({"kubeconfig": path})
    assert "pip install kubernetes" in err.value.msg


def test_a_kubeconfig_dict_is_read_like_a_file(tmp_path):
    doc = yaml.safe_load(open(_kubeconfig(tmp_path / "config", clusters=[("c", {"server": "http://api"})],
                                          users=[("u", {"token": "d"})], contexts=[("ctx", "c", "u")],
                                          current="ctx")))
    found = ep.endpoint_for({"kubeconfig": json.loads(json.dumps(doc))})
    assert (found.host, found.authorization()) == ("http://api", "Bearer d")
