"""Go's wording of JSON syntax errors (sandbox/api/gojson.py) and the label selector parser, as units."""
from __future__ import annotations

import pytest

from sandbox.api import gojson
from sandbox.api.errors import ApiError
from sandbox.api.selectors import parse_label_selector


@pytest.mark.parametrize("data,error", [
    (b'{"apiVersion": ', "unexpected end of JSON input"),
    (b"", "unexpected end of JSON input"),
    (b"  ", "unexpected end of JSON input"),
    (b"[1,2", "unexpected end of JSON input"),
    (b"{not json", "invalid character 'n' looking for beginning of object key string"),
    (b'{"a":1}}', "invalid character '}' after top-level value"),
    (b"01", "invalid character '1' after top-level value"),
    (b'{"a" 1}', "invalid character '1' after object key"),
    (b'{"a":1 2}', "invalid character '2' after object key:value pair"),
    (b"[1 2]", "invalid character '2' after array element"),
    (b'{"a":NaN}', "invalid character 'N' looking for beginning of value"),
    (b"\xef\xbb\xbf{}", "invalid character '\u00ef' looking for beginning of value"),
    (b"\x81", "invalid character '\\u0081' looking for beginning of value"),
    (b'"a\tb"', "invalid character '\\t' in string literal"),
    (b'"\\q"', "invalid character 'q' in string escape code"),
    (b'"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"),
    (b'{"a": tru}', "invalid character '}' in literal true (expecting 'e')"),
    (b"tru", "invalid character ' ' in literal true (expecting 'e')"),
    (b"nul", "invalid character ' ' in literal null (expecting 'l')"),
    (b"fals", "invalid character ' ' in literal false (expecting 'e')"),
    (b"-", "invalid character ' ' in numeric literal"),
    (b"1.", "invalid character ' ' after decimal point in numeric literal"),
    (b"1e+", "invalid character ' ' in exponent of numeric literal"),
    (b"'a'", "invalid character '\\'' looking for beginning of value"),
])
def test_go_syntax_errors(data: bytes, error: str) -> None:
    assert gojson.syntax_error(data) == error
    with pytest.raises(gojson.GoJSONError) as err:
        gojson.loads(data)
    assert str(err.value) == error


@pytest.mark.parametrize("data", [b"5", b"[1]", b'"x"', b" {} ", b'{"a":[1,2.5e3,-0,true,false,null,"\\u00e9"]}'])
def test_go_accepts(data: bytes) -> None:
    assert gojson.syntax_error(data) is None


def test_invalid_utf8_in_strings_is_replaced() -> None:
    assert gojson.loads(b'{"a":"\xff"}') == {"a": "\ufffd"}


def test_nesting_limit() -> None:
    assert gojson.syntax_error(b"[" * 10001) == "invalid character '[' exceeded max depth"
    assert gojson.syntax_error(b"[" * 10000 + b"]" * 10000) is None


def test_summaries() -> None:
    assert gojson.summarize(b"") == "<empty>"
    assert gojson.summarize(b'{"a":1}') == '{"a":1}'
    assert gojson.summarize(b"[1]") == "5b315d"
    assert gojson.summarize(b"{" + b"x" * 40) == "{" + "x" * 29 + " ..."


def test_label_selector_requirements() -> None:
    reqs = parse_label_selector("a in (z,y,), !b, c!=d, e, f>3, g==h")
    assert [(r.key, r.op, r.values) for r in reqs] == [
        ("a", "in", ("", "y", "z")), ("b", "!", ()), ("c", "!=", ("d",)), ("e", "exists", ()),
        ("f", "gt", ("3",)), ("g", "=", ("h",))]
    assert parse_label_selector("") == [] and parse_label_selector("a=")[0].values == ("",)


def test_label_selector_value_checks() -> None:
    with pytest.raises(ApiError) as err:
        parse_label_selector("a=" + "b" * 64)
    # Kubernetes 1.30 says characters (1.36: bytes)
    assert err.value.status["message"] == (f'unable to parse requirement: values[0][a]: Invalid value: "{"b" * 64}": '
                                           "must be no more than 63 characters")
