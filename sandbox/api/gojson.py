"""JSON decoding with the texts Go's encoding/json reports (what kube-apiserver quotes back).

kube-apiserver decodes request bodies, patches and continue tokens with Go's encoding/json (or
sigs.k8s.io/json, a fork with the same syntax checker), so its refusals quote that decoder: `invalid
character 'n' looking for beginning of object key string`, `unexpected end of JSON input`, `json:
cannot unmarshal array into Go value of type ...`.  Python's json module words the same failures
differently (and accepts NaN and Infinity, which Go refuses), so the syntax is checked here by a
byte-level state machine that follows the grammar and the error contexts of Go's scanner.
"""
from __future__ import annotations

import json
from typing import Any, Callable

MAX_DEPTH = 10000   # Go refuses nesting deeper than this ("exceeded max depth")


class GoJSONError(ValueError):
    """A body Go's decoder refuses; str() is Go's message."""


def quote_char(c: int) -> str:
    """How Go's scanner names a byte in an error: 'x', '\\'', '"', '\\n', '\\x01', '\\u0081'."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    ch = chr(c)
    special = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\"}
    if ch in special:
        return f"'{special[ch]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if not ch.isprintable():
        return f"'\\u{c:04x}'"
    return f"'{ch}'"


_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_SPACE = frozenset(b" \t\r\n")


class _Scanner:
    """Go's scanner as a set of states; each state takes one byte and returns the next state."""

    def __init__(self) -> None:
        self.stack: list[str] = []       # "key" | "value" (in an object) | "array"
        self.error: str | None = None
        self.end_top = False
        self.step: Callable[[int], None] = self.begin_value

    def fail(self, c: int, context: str) -> None:
        self.error = f"invalid character {quote_char(c)} {context}"
        self.step = lambda c: None

    def push(self, c: int, kind: str) -> bool:
        self.stack.append(kind)
        if len(self.stack) > MAX_DEPTH:
            self.fail(c, "exceeded max depth")
            return False
        return True

    def pop(self) -> None:
        self.stack.pop()
        if not self.stack:
            self.step = self.end_top_state
            self.end_top = True
        else:
            self.step = self.end_value

    # -- values ---------------------------------------------------------------------------------
    def begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x5D:   # ]
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x7B:      # {
            if self.push(c, "key"):
                self.step = self.begin_string_or_empty
        elif c == 0x5B:    # [
            if self.push(c, "array"):
                self.step = self.begin_value_or_empty
        elif c == 0x22:
            self.step = self.in_string
        elif c == 0x2D:    # -
            self.step = self.neg
        elif c == 0x30:
            self.step = self.zero
        elif 0x31 <= c <= 0x39:
            self.step = self.digits
        elif c in b"tfn":
            self.step = self.literal({0x74: "true", 0x66: "false", 0x6E: "null"}[c], 1)
        else:
            self.fail(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x7D:      # }
            self.stack[-1] = "value"
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x22:
            self.step = self.in_string
        else:
            self.fail(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> None:
        if not self.stack:
            self.step = self.end_top_state
            self.end_top = True
            self.end_top_state(c)
            return
        if c in _SPACE:
            self.step = self.end_value
            return
        top = self.stack[-1]
        if top == "key":
            if c == 0x3A:  # :
                self.stack[-1] = "value"
                self.step = self.begin_value
            else:
                self.fail(c, "after object key")
        elif top == "value":
            if c == 0x2C:
                self.stack[-1] = "key"
                self.step = self.begin_string
            elif c == 0x7D:
                self.pop()
            else:
                self.fail(c, "after object key:value pair")
        else:
            if c == 0x2C:
                self.step = self.begin_value
            elif c == 0x5D:
                self.pop()
            else:
                self.fail(c, "after array element")

    def end_top_state(self, c: int) -> None:
        if c not in _SPACE:
            self.fail(c, "after top-level value")

    # -- strings ----------------------------------------------------------------------------------
    def in_string(self, c: int) -> None:
        if c == 0x22:
            self.step = self.end_value
        elif c == 0x5C:
            self.step = self.in_escape
        elif c < 0x20:
            self.fail(c, "in string literal")

    def in_escape(self, c: int) -> None:
        if c in b'bfnrt\\/"':
            self.step = self.in_string
        elif c == 0x75:   # u
            self.step = self.hex_digit(4)
        else:
            self.fail(c, "in string escape code")

    def hex_digit(self, left: int) -> Callable[[int], None]:
        def state(c: int) -> None:
            if c in _HEX:
                self.step = self.in_string if left == 1 else self.hex_digit(left - 1)
            else:
                self.fail(c, "in \\u hexadecimal character escape")
        return state

    # -- numbers and literals -----------------------------------------------------------------------
    def neg(self, c: int) -> None:
        if c == 0x30:
            self.step = self.zero
        elif 0x31 <= c <= 0x39:
            self.step = self.digits
        else:
            self.fail(c, "in numeric literal")

    def digits(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == 0x2E:
            self.step = self.dot
        elif c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.dot_digits
        else:
            self.fail(c, "after decimal point in numeric literal")

    def dot_digits(self, c: int) -> None:
        if c in _DIGITS:
            return
        if c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def exp(self, c: int) -> None:
        if c in b"+-":
            self.step = self.exp_sign
        else:
            self.exp_sign(c)

    def exp_sign(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.exp_digits
        else:
            self.fail(c, "in exponent of numeric literal")

    def exp_digits(self, c: int) -> None:
        if c not in _DIGITS:
            self.end_value(c)

    def literal(self, word: str, pos: int) -> Callable[[int], None]:
        def state(c: int) -> None:
            want = word[pos]
            if c == ord(want):
                self.step = self.end_value if pos == len(word) - 1 else self.literal(word, pos + 1)
            else:
                self.fail(c, f"in literal {word} (expecting '{want}')")
        return state


def syntax_error(data: bytes) -> str | None:
    """Go's syntax error for `data`, or None when Go's scanner accepts it."""
    s = _Scanner()
    for c in data:
        s.step(c)
        if s.error:
            return s.error
    if s.end_top:
        return None
    s.step(0x20)          # the scanner's eof(): a space ends a number at the top level
    if s.end_top and not s.error:
        return None
    return s.error or "unexpected end of JSON input"


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def loads(data: bytes, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """Decode as Go would: GoJSONError with Go's text when Go refuses the bytes.

    Invalid UTF-8 inside strings is replaced by U+FFFD, as Go does. Python's decoder runs first (it
    is fast); only a body it refuses, or one with NaN/Infinity (which only Python takes), is scanned
    byte by byte for Go's wording."""
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=_no_constant)
    except ValueError as exc:
        raise GoJSONError(syntax_error(data) or str(exc)) from None
    except RecursionError:      # deeper than Python decodes (Go's own limit is MAX_DEPTH)
        raise GoJSONError(syntax_error(data) or "exceeded max depth") from None


def type_name(value: Any) -> str:
    """The JSON type word of Go's "json: cannot unmarshal <type> into ..." errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def cannot_unmarshal(value: Any, go_type: str) -> str:
    return f"json: cannot unmarshal {type_name(value)} into Go value of type {go_type}"


def cannot_unmarshal_field(value: Any, struct_field: str, go_type: str) -> str:
    return f"json: cannot unmarshal {type_name(value)} into Go struct field {struct_field} of type {go_type}"


# What kube-apiserver decodes a body's apiVersion and kind into first (its error names this type).
FIND_KIND = ('struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
             'Kind string "json:\\"kind,omitempty\\"" }')


def summarize(data: bytes, limit: int = 30) -> str:
    """How a refused body is quoted: text when it starts with "{", else hex; cut at `limit` bytes."""
    if not data:
        return "<empty>"
    cut = data[:limit]
    text = cut.decode("utf-8", errors="replace") if data[:1] == b"{" else cut.hex()
    return text + " ..." if len(data) > limit else text


def marshal(value: Any) -> str:
    """encoding/json.Marshal's text: compact, non-ASCII kept, <, >, & and U+2028/9 escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text
