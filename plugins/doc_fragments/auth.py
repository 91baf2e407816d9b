# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Connection options shared by every module (names as in kubernetes.core)."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of plugins/module_utils/options/args.py AUTH_ARG_SPEC."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig content as a dictionary.
      - When neither O(kubeconfig), O(context) nor O(host) is given, C(~/.kube/config) (or E(KUBECONFIG)) is used,
        then the in-cluster service account.
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
    type: raw
  context:
    description:
      - The kubeconfig context to use. Can also be set with E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the Kubernetes API server. Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token to authenticate with. Can also be set with E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - User name for basic authentication. Can also be set with E(K8S_AUTH_USERNAME).
    type: str
  password:
    description:
      - Password for basic authentication. Can also be set with E(K8S_AUTH_PASSWORD).
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Verification is on unless the kubeconfig or this
        option turns it off. Can also be set with E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA bundle to verify the API server with. Can also be set with E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate. Can also be set with E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the client certificate's key. Can also be set with E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - HTTP proxy URL for API requests. Can also be set with E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, IPs or CIDRs to reach without the proxy.
        Can also be set with E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description:
      - Headers to send to the proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy. Can also be set with E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH).
        type: str
      basic_auth:
        description:
          - C(user:password) for basic authentication. Can also be set with E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH).
        type: str
      user_agent:
        description:
          - The User-Agent header. Can also be set with E(K8S_AUTH_PROXY_HEADERS_USER_AGENT).
        type: str
  impersonate_user:
    description:
      - User to impersonate. Can also be set with E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Groups to impersonate. Can also be set with E(K8S_AUTH_IMPERSONATE_GROUPS).
    type: list
    elements: str
  persist_config:
    description:
      - Write refreshed tokens back to the kubeconfig file. Can also be set with E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  request_timeout:
    description:
      - Seconds one API request may take. Transient errors (5xx, 429, connection resets) are retried with
        backoff within a total budget of about a minute; other 4xx answers are not retried.
    type: float
    default: 30
  connection:
    description:
      - The main connection options as one dictionary, for roles and other wrappers. Each key that is set (not
        null) wins over the top-level option of the same name; a key left out or null leaves that option alone,
        so C(module_defaults) and the E(K8S_AUTH_*) variables still apply. (A task argument set to C(omit) would
        hide C(module_defaults) instead.)
    type: dict
    default: {}
    suboptions:
      kubeconfig:
        description: As O(kubeconfig).
        type: raw
      context:
        description: As O(context).
        type: str
      host:
        description: As O(host).
        type: str
      api_key:
        description: As O(api_key).
        type: str
      validate_certs:
        description: As O(validate_certs).
        type: bool
      ca_cert:
        description: As O(ca_cert).
        type: path
requirements:
  - python >= 3.9
  - urllib3 >= 1.26
  - kubernetes >= 24.2.0, only for a kubeconfig user that runs an exec or auth-provider plugin
  - PyYAML >= 5.4
notes:
  - The API token, password and registry credentials are never shown in results or logs.
"""
