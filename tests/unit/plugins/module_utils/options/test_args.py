# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The shared ``connection`` option: set keys win, unset ones leave module_defaults alone."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import (
    AUTH_ARG_SPEC, CONNECTION_KEYS, merge_connection, validate_connection,
)


def test_set_connection_keys_win_and_null_ones_keep_the_top_level_option():
    params = {"kubeconfig": "/from/module_defaults", "host": "https://defaults", "validate_certs": True,
              "connection": {"kubeconfig": None, "host": "https://role", "validate_certs": False}}
    given = {key: dict(value) if isinstance(value, dict) else value for key, value in params.items()}
    assert merge_connection(params) == {"kubeconfig": "/from/module_defaults", "host": "https://role",
                                        "validate_certs": False}
    assert params == given   # the module's parameters are left as they were


def test_a_missing_or_null_connection_changes_nothing():
    for given in ({}, {"connection": None}, {"connection": {}}):
        assert merge_connection(dict(given, context="ctx")) == {"context": "ctx"}


def test_connection_suboptions_match_the_auth_options_without_env_fallbacks_or_aliases():
    options = AUTH_ARG_SPEC["connection"]["options"]
    assert tuple(options) == CONNECTION_KEYS
    for key, option in options.items():
        assert option["type"] == AUTH_ARG_SPEC[key]["type"]
        assert not {"fallback", "aliases", "default"} & set(option)
    assert options["api_key"]["no_log"] is True


@pytest.mark.parametrize("timeout", [0, 0.0, -1, -0.5])
def test_request_timeout_of_zero_or_less_is_refused_naming_the_option(timeout):
    with pytest.raises(ValidationError, match="request_timeout must be > 0 seconds, got %s" % timeout):
        validate_connection({"request_timeout": timeout})
    validate_connection({"request_timeout": 0.25})
    validate_connection({})
