"""Kubernetes resource quantities: parse, compare, and print in canonical form (Quantity.String)."""
from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SHAPE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")


class Quantity:
    """A parsed quantity: its exact value and the format family it was written in."""

    def __init__(self, text: str | int) -> None:
        if isinstance(text, int):
            self.value, self.binary = Decimal(text), False
            return
        m = _SHAPE.match(text.strip())
        if not m:
            raise ValueError(f"quantities must match the regular expression '{_SHAPE.pattern}'")
        number, suffix = Decimal(m.group(1)), m.group(2) or ""
        self.binary = suffix in _BINARY
        if self.binary:
            self.value = number * (Decimal(1024) ** _BINARY[suffix])
        elif suffix in _DECIMAL:
            self.value = number.scaleb(_DECIMAL[suffix])
        else:
            self.value = number.scaleb(int(suffix[1:]))

    def is_zero(self) -> bool:
        return self.value == 0

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __str__(self) -> str:
        if self.value == 0:
            return "0"
        if self.binary and abs(self.value) >= 1024:
            whole = self.value.to_integral_value(rounding=ROUND_CEILING)
            exp = 0
            while exp < 6 and whole % (Decimal(1024) ** (exp + 1)) == 0:
                exp += 1
            suffix = next((k for k, v in _BINARY.items() if v == exp), "")
            return f"{int(whole / (Decimal(1024) ** exp))}{suffix}"
        return _decimal_si(self.value)


def _decimal_si(value: Decimal) -> str:
    """The largest SI suffix (multiple of 3) that keeps the number whole, rounding up below nano."""
    exps = sorted(_DECIMAL.values(), reverse=True)
    for exp in exps:
        scaled = value.scaleb(-exp)
        if scaled == scaled.to_integral_value():
            suffix = next(k for k, v in _DECIMAL.items() if v == exp)
            return f"{int(scaled)}{suffix}"
    return f"{int(value.scaleb(9).to_integral_value(rounding=ROUND_CEILING))}n"
