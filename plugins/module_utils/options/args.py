# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Shared argument specs (one place for each option), deep-copied per module."""

from __future__ import annotations

import copy
from typing import Any, Dict, Mapping

from ansible.module_utils.basic import env_fallback

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CHECKSUM_ALGORITHMS, Kind, object_ref_kinds,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UPLOAD_ENDPOINTS

AUTH_ARG_SPEC: Dict[str, Dict[str, Any]] = {
    "kubeconfig": {"type": "raw", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "username": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_USERNAME"])},
    "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_PASSWORD"])},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"],
                       "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL"])},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"], "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT"])},
    "client_cert": {"type": "path", "aliases": ["cert_file"], "fallback": (env_fallback, ["K8S_AUTH_CERT_FILE"])},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False,
                   "fallback": (env_fallback, ["K8S_AUTH_KEY_FILE"])},
    "proxy": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_PROXY"])},
    "no_proxy": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_NO_PROXY"])},
    "proxy_headers": {
        "type": "dict",
        "options": {
            "proxy_basic_auth": {"type": "str", "no_log": True,
                                 "fallback": (env_fallback, ["K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH"])},
            "basic_auth": {"type": "str", "no_log": True,
                           "fallback": (env_fallback, ["K8S_AUTH_PROXY_HEADERS_BASIC_AUTH"])},
            "user_agent": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_PROXY_HEADERS_USER_AGENT"])},
        },
    },
    "impersonate_user": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_IMPERSONATE_USER"])},
    "impersonate_groups": {"type": "list", "elements": "str",
                           "fallback": (env_fallback, ["K8S_AUTH_IMPERSONATE_GROUPS"])},
    "persist_config": {"type": "bool", "fallback": (env_fallback, ["K8S_AUTH_PERSIST_CONFIG"])},
    "request_timeout": {"type": "float", "default": 30.0},
}

WAIT_ARG_SPEC: Dict[str, Dict[str, Any]] = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 1800},
}

CHECKSUM_SPEC: Dict[str, Any] = {
    "type": "dict",
    "options": {algo: {"type": "str"} for algo in CHECKSUM_ALGORITHMS},
}

# How one file is sent: options of virtual_image_upload, also under source.upload of the image modules.
UPLOAD_TRANSFER_SPEC: Dict[str, Dict[str, Any]] = {
    "endpoint": {"type": "str", "default": "auto", "choices": list(UPLOAD_ENDPOINTS)},
    "upload_url": {"type": "str", "no_log": True},
    "upload_validate_certs": {"type": "bool", "default": True},
    "upload_ca_cert": {"type": "path"},
    "retries": {"type": "int", "default": 2},
}

# The options of virtual_image_upload beyond the image's identity.
UPLOAD_OPTIONS_SPEC: Dict[str, Dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "checksum": copy.deepcopy(CHECKSUM_SPEC),
    **copy.deepcopy(UPLOAD_TRANSFER_SPEC),
    "show_upload_url": {"type": "bool", "default": False},
    "recreate": {"type": "bool", "default": False},
}


# Internal option the action plugin sets: where to append progress lines.
PROGRESS_ARG_SPEC: Dict[str, Dict[str, Any]] = {
    "progress_file": {"type": "path"},
}


def source_spec(target: Kind) -> Dict[str, Any]:
    """The ``source`` option of the modules that make a ``target`` (VirtualImage, ClusterVirtualImage, VirtualDisk):
    the same blocks for all; references from a cluster-wide object carry a namespace, from a namespaced one not."""
    secret_ref: Dict[str, Any]
    object_ref: Dict[str, Any] = {
        "kind": {"type": "str", "required": True, "choices": list(object_ref_kinds(target))},
        "name": {"type": "str", "required": True},
    }
    if not target.namespaced:
        secret_ref = {"type": "dict", "no_log": False,
                      "options": {"name": {"type": "str"}, "namespace": {"type": "str"}}}
        object_ref["namespace"] = {"type": "str"}
    else:
        secret_ref = {"type": "str", "no_log": False}
    return {
        "type": "dict",
        "options": {
            "http": {"type": "dict", "options": {
                "url": {"type": "str", "required": True},
                "checksum": copy.deepcopy(CHECKSUM_SPEC),
                "ca_bundle": {"type": "str"},
            }},
            "container_image": {"type": "dict", "options": {
                "image": {"type": "str", "required": True},
                "image_pull_secret": secret_ref,
                "ca_bundle": {"type": "str"},
                "registry_credentials": {"type": "dict", "no_log": False, "options": {
                    "username": {"type": "str", "required": True, "no_log": True},
                    "password": {"type": "str", "required": True, "no_log": True},
                }},
            }},
            "object_ref": {"type": "dict", "options": object_ref},
            "upload": {"type": "dict", "options": dict(
                {"path": {"type": "path", "required": True}, "checksum": copy.deepcopy(CHECKSUM_SPEC)},
                **copy.deepcopy(UPLOAD_TRANSFER_SPEC))},
        },
    }


# ``state`` of every module that ensures one object.
PRESENCE_SPEC: Dict[str, Any] = {"type": "str", "default": "present", "choices": ["present", "absent"]}


def image_spec(kind: Kind) -> Dict[str, Any]:
    """The options virtual_image and cluster_virtual_image share: the image's identity and ``state``, its
    ``source`` (typed) or a whole ``definition``, and how a change or a delete is carried out."""
    return {
        "name": {"type": "str"},
        "state": copy.deepcopy(PRESENCE_SPEC),
        "source": source_spec(kind),
        "labels": {"type": "dict"},
        "annotations": {"type": "dict"},
        "definition": {"type": "raw"},
        "src": {"type": "path"},
        "recreate": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
    }


# The auth options a role may pass as one ``connection`` dict.
CONNECTION_KEYS = ("kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert")


def connection_spec() -> Dict[str, Any]:
    """The ``connection`` option: those auth options without fallbacks, aliases or defaults, so a key left
    out (or null) leaves the module's own option alone (set by ``module_defaults`` or the environment)."""
    options = {}
    for key in CONNECTION_KEYS:
        option = copy.deepcopy(AUTH_ARG_SPEC[key])
        for unwanted in ("fallback", "aliases", "default"):
            option.pop(unwanted, None)
        options[key] = option
    return {"type": "dict", "default": {}, "options": options}


AUTH_ARG_SPEC["connection"] = connection_spec()


def merge_connection(params: Mapping[str, Any]) -> Dict[str, Any]:
    """A deep copy of ``params`` with the ``connection`` dict folded into the top-level auth options (its keys
    that are set win) and the ``connection`` key itself gone."""
    merged = {key: copy.deepcopy(value) for key, value in params.items() if key != "connection"}
    given = params.get("connection") or {}
    merged.update({key: copy.deepcopy(value) for key, value in given.items() if value is not None})
    return merged


def validate_connection(params: Mapping[str, Any]) -> None:
    """The connection options every module takes, after ``connection`` was folded in: a request_timeout of 0 or
    less would make every request fail at once (or, as once, silently become the default)."""
    timeout = params.get("request_timeout")
    if timeout is not None and timeout <= 0:
        raise ValidationError("request_timeout must be > 0 seconds, got %s" % timeout)


def copy_spec(*specs: Dict[str, Any]) -> Dict[str, Any]:
    """Merge argspec dicts into a fresh deep copy (AnsibleModule mutates its spec)."""
    merged: Dict[str, Any] = {}
    for spec in specs:
        merged.update(copy.deepcopy(spec))
    return merged


def with_task_options(own: Dict[str, Any]) -> Dict[str, Any]:
    """A fresh copy of a module's own options plus what every module that waits takes: wait, connection,
    progress."""
    return copy_spec(own, WAIT_ARG_SPEC, AUTH_ARG_SPEC, PROGRESS_ARG_SPEC)
