# -*- coding: utf-8 -*-
"""common/quantity.py: Kubernetes quantities read by value (binary and decimal suffixes, exponents, fractions)."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import parse_quantity


@pytest.mark.parametrize("text,value", [("10Gi", 10 * 2 ** 30), ("512M", 512 * 10 ** 6), ("1e3", 1000),
                                        ("1.5Ki", 1536), ("100", 100)])
def test_quantities_are_read_by_value(text, value):
    assert parse_quantity(text) == value
