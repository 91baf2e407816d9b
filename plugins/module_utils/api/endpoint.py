# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Where the API server is and how to prove who we are: the connection options, a kubeconfig or the pod's
service account, read into one ``Endpoint``.

Why not the ``kubernetes`` library: importing it costs about 0.6 s of CPU per task (its generated client
pulls in pydantic, requests and oauthlib), more than a task that changes nothing does otherwise. A
kubeconfig with a token, a token file, a client certificate or a password is plain YAML; only a user that
runs an ``exec`` or ``auth-provider`` plugin needs the library's code, and only then is it imported.

The rules are kubectl's and the ``kubernetes`` library's: ``KUBECONFIG`` holds several files separated by
``:`` (the first file that names a cluster, user or context wins, and so does the first ``current-context``);
relative paths in a file are relative to that file's folder; a CA or client certificate is read only for an
``https`` server; without a kubeconfig the pod's service account is used.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import os
import shutil
import tempfile
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the module
    yaml = None  # type: ignore[assignment]

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
PLUGIN_USERS = ("exec", "auth-provider")


class Endpoint:
    """One API server and the credentials for it; ``authorization()`` is asked before every request so that
    a token that rotates (a service account's, an exec plugin's) is read fresh."""

    def __init__(self, host: str) -> None:
        self.host = host.rstrip("/")
        self.verify = True
        self.ca_file: Optional[str] = None
        self.cert_file: Optional[str] = None
        self.key_file: Optional[str] = None
        self.tls_server_name: Optional[str] = None
        self.proxy: Optional[str] = None
        self.no_proxy: Optional[str] = None
        self.proxy_headers: Dict[str, str] = {}
        self.headers: Dict[str, str] = {}
        self.authorization: Callable[[], Optional[str]] = lambda: None


def _config_error(message: str) -> ApiError:
    return ApiError(message, reason="ConfigError")


class _Secrets:
    """Certificate and key data given inline (``*-data``) must be files for TLS: written into one private
    folder (mode 0700) that is removed when the task ends."""

    folder: Optional[str] = None

    @classmethod
    def write(cls, data: bytes, name: str) -> str:
        if cls.folder is None:
            cls.folder = tempfile.mkdtemp(prefix="dvp-tls-")
            atexit.register(shutil.rmtree, cls.folder, True)
        path = os.path.join(cls.folder, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as stream:
            stream.write(data)
        return path


def _file_or_data(section: Mapping[str, Any], key: str, base: str, what: str) -> Optional[str]:
    """A path for ``key`` (relative to the kubeconfig's folder) or for ``key-data`` (base64, written out)."""
    data = section.get(key + "-data")
    if data:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise _config_error("cannot load the kubeconfig: %s-data of %s is not base64" % (key, what))
        return _Secrets.write(raw, "%s-%s" % (what.replace(" ", "-"), key))
    path = section.get(key)
    if not path:
        return None
    path = os.path.join(base, os.path.expanduser(path)) if base else os.path.expanduser(path)
    if not os.path.isfile(path):
        raise _config_error("cannot load the kubeconfig: %s of %s: no file %s" % (key, what, path))
    return path


class _Named:
    """An entry of a kubeconfig list with the folder its file is in."""

    def __init__(self, value: Mapping[str, Any], base: str) -> None:
        self.value = value
        self.base = base


class _Merged:
    """One or more kubeconfig files merged as kubectl merges them."""

    def __init__(self) -> None:
        self.current: Optional[str] = None
        self.items: Dict[str, Dict[str, _Named]] = {"clusters": {}, "users": {}, "contexts": {}}

    def add(self, doc: Any, base: str, origin: str) -> None:
        if not isinstance(doc, dict):
            raise _config_error("cannot load the kubeconfig: %s is not a kubeconfig (a YAML mapping)" % origin)
        if self.current is None and doc.get("current-context"):
            self.current = doc["current-context"]
        for kind, slot in self.items.items():
            for entry in doc.get(kind) or []:
                if isinstance(entry, dict) and entry.get("name") and entry["name"] not in slot:
                    slot[entry["name"]] = _Named(entry, base)

    def get(self, kind: str, name: Optional[str], what: str) -> _Named:
        if not name or name not in self.items[kind]:
            raise _config_error("cannot load the kubeconfig: %s %r not found" % (what, name))
        return self.items[kind][name]


def _read_files(paths: List[str]) -> Optional[_Merged]:
    merged = _Merged()
    found = False
    for path in paths:
        path = os.path.expanduser(path)
        if not path or not os.path.exists(path):
            continue
        found = True
        try:
            with open(path, encoding="utf-8") as stream:
                doc = yaml.safe_load(stream)
        except (OSError, yaml.YAMLError) as exc:
            raise _config_error("cannot load the kubeconfig: %s: %s" % (path, exc))
        if doc is None:
            raise _config_error("cannot load the kubeconfig: %s is empty" % path)
        merged.add(doc, os.path.dirname(os.path.abspath(path)), path)
    return merged if found else None


def _kubeconfig_paths(kubeconfig: Optional[str]) -> List[str]:
    if kubeconfig:
        return [kubeconfig]
    return [p for p in os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep) if p]


def _static_user(user: Mapping[str, Any], base: str) -> Callable[[], Optional[str]]:
    """The Authorization header of a user with a token, a token file or a password (read in that order)."""
    token = user.get("token")
    if not token and user.get("tokenFile"):
        path = os.path.join(base, os.path.expanduser(user["tokenFile"])) if base else user["tokenFile"]
        try:
            with open(path, encoding="utf-8") as stream:
                token = stream.read().strip()
        except OSError as exc:
            raise _config_error("cannot load the kubeconfig: tokenFile %s: %s" % (path, exc.strerror))
    if token:
        bearer = "Bearer %s" % token
        return lambda: bearer
    if user.get("username") and user.get("password"):
        basic = _basic(user["username"], user["password"])
        return lambda: basic
    return lambda: None


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()


def from_kubeconfig(kubeconfig: Any, context: Optional[str], persist: bool) -> Optional[Endpoint]:
    """The endpoint of ``context`` (or the current context) of a kubeconfig given as a path, a dict or
    nothing (``KUBECONFIG``, else ``~/.kube/config``); None when no kubeconfig file exists."""
    if isinstance(kubeconfig, dict):
        merged: Optional[_Merged] = _Merged()
        merged.add(kubeconfig, "", "the kubeconfig option")  # type: ignore[union-attr]
    else:
        merged = _read_files(_kubeconfig_paths(kubeconfig))
        if merged is None:
            if kubeconfig:
                raise _config_error("cannot load the kubeconfig: no file %s" % kubeconfig)
            return None
    name = context or merged.current
    if not name:
        raise _config_error("cannot load the kubeconfig: it has no current-context; give context")
    ctx = merged.get("contexts", name, "context").value.get("context") or {}
    cluster_entry = merged.get("clusters", ctx.get("cluster"), "cluster")
    user_entry = merged.get("users", ctx.get("user"), "user") if ctx.get("user") else _Named({}, "")
    cluster = cluster_entry.value.get("cluster") or {}
    user = user_entry.value.get("user") or {}
    if any(user.get(plugin) for plugin in PLUGIN_USERS):
        return _from_plugin_user(kubeconfig, name, persist)
    if not cluster.get("server"):
        raise _config_error("cannot load the kubeconfig: cluster %r has no server" % ctx.get("cluster"))
    endpoint = Endpoint(cluster["server"])
    if endpoint.host.startswith("https"):
        endpoint.ca_file = _file_or_data(cluster, "certificate-authority", cluster_entry.base, "cluster")
        endpoint.cert_file = _file_or_data(user, "client-certificate", user_entry.base, "user")
        endpoint.key_file = _file_or_data(user, "client-key", user_entry.base, "user")
    if "insecure-skip-tls-verify" in cluster:
        endpoint.verify = not cluster["insecure-skip-tls-verify"]
    endpoint.tls_server_name = cluster.get("tls-server-name")
    endpoint.proxy = cluster.get("proxy-url")
    endpoint.authorization = _static_user(user, user_entry.base)
    return endpoint


def _from_plugin_user(kubeconfig: Any, context: str, persist: bool) -> Endpoint:
    """A user whose credentials come from an exec or auth-provider plugin: the ``kubernetes`` library runs it
    (and refreshes what it returns before every request, as it does for its own client)."""
    try:
        from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
        from kubernetes import config as k8s_config  # pylint: disable=import-outside-toplevel
        from kubernetes.config.config_exception import ConfigException  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise _config_error("the kubeconfig's user runs an exec or auth-provider plugin: install the Python "
                            "library kubernetes (pip install kubernetes) on the host the module runs on")
    configuration = k8s_client.Configuration()
    try:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=configuration)
        else:
            k8s_config.load_kube_config(config_file=kubeconfig, context=context,
                                        client_configuration=configuration, persist_config=persist)
    except (ConfigException, OSError) as exc:
        raise _config_error("cannot load the kubeconfig: %s" % exc)
    endpoint = Endpoint(configuration.host)
    endpoint.verify = configuration.verify_ssl
    endpoint.ca_file = configuration.ssl_ca_cert
    endpoint.cert_file = configuration.cert_file
    endpoint.key_file = configuration.key_file
    endpoint.tls_server_name = getattr(configuration, "tls_server_name", None)
    endpoint.proxy = configuration.proxy
    endpoint.authorization = lambda: (configuration.get_api_key_with_prefix("BearerToken")
                                      or configuration.get_api_key_with_prefix("authorization"))
    return endpoint


def in_cluster() -> Optional[Endpoint]:
    """The pod's own service account, when the module runs in a pod; its token is read before every request
    (the kubelet rotates it)."""
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
    token_file = os.path.join(SERVICE_ACCOUNT, "token")
    if not host or not port or not os.path.isfile(token_file):
        return None
    endpoint = Endpoint("https://%s:%s" % ("[%s]" % host if ":" in host else host, port))
    ca_file = os.path.join(SERVICE_ACCOUNT, "ca.crt")
    endpoint.ca_file = ca_file if os.path.isfile(ca_file) else None

    def bearer() -> Optional[str]:
        with open(token_file, encoding="utf-8") as stream:
            return "Bearer " + stream.read().strip()
    endpoint.authorization = bearer
    return endpoint


def endpoint_for(params: Mapping[str, Any]) -> Endpoint:
    """The endpoint the connection options name: a kubeconfig (given, or the default one) unless only ``host``
    is given, else the service account; then the explicit options override what the kubeconfig says."""
    kubeconfig, context = params.get("kubeconfig"), params.get("context")
    endpoint: Optional[Endpoint] = None
    if not (params.get("host") and not kubeconfig and not context):
        endpoint = from_kubeconfig(kubeconfig, context, bool(params.get("persist_config")))
        if endpoint is None and context:
            raise _config_error("cannot load the kubeconfig: context %r given but no kubeconfig file found" % context)
        if endpoint is None:
            endpoint = in_cluster()
    if params.get("host"):
        previous = endpoint
        endpoint = Endpoint(params["host"])
        if previous is not None:
            endpoint.__dict__.update({k: v for k, v in previous.__dict__.items() if k != "host"})
    if endpoint is None:
        raise _config_error("no cluster to talk to: give kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG), "
                            "or host with api_key")
    _apply_options(endpoint, params)
    return endpoint


def _apply_options(endpoint: Endpoint, params: Mapping[str, Any]) -> None:
    """The module's own connection options win over the kubeconfig's."""
    if params.get("api_key"):
        bearer = "Bearer " + params["api_key"]
        endpoint.authorization = lambda: bearer
    elif params.get("username") and params.get("password"):
        basic = _basic(params["username"], params["password"])
        endpoint.authorization = lambda: basic
    if params.get("validate_certs") is not None:
        endpoint.verify = params["validate_certs"]
    for option, attr in (("ca_cert", "ca_file"), ("client_cert", "cert_file"), ("client_key", "key_file"),
                         ("proxy", "proxy"), ("no_proxy", "no_proxy")):
        if params.get(option):
            setattr(endpoint, attr, params[option])
    given = {k: v for k, v in (params.get("proxy_headers") or {}).items() if v}
    if given.get("proxy_basic_auth"):
        endpoint.proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(
            given["proxy_basic_auth"].encode()).decode()
    if given.get("basic_auth"):
        endpoint.proxy_headers["Authorization"] = "Basic " + base64.b64encode(given["basic_auth"].encode()).decode()
    if given.get("user_agent"):
        endpoint.proxy_headers["User-Agent"] = given["user_agent"]
    if params.get("impersonate_user"):
        endpoint.headers["Impersonate-User"] = params["impersonate_user"]
    if params.get("impersonate_groups"):
        endpoint.headers["Impersonate-Group"] = ",".join(params["impersonate_groups"])
