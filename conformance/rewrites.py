"""Version wording: the reference server's text put into the words of the release the sandbox speaks.

The sandbox answers as Kubernetes 1.30 does (what platform clusters run; its /version says so); the
reference server is apiextensions-apiserver 0.36. Between the two, upstream reworded some messages
without changing what they report. Each rule below is one such change, with the upstream commit that
made it; it is applied to the reference side's texts (Status messages, cause messages, warnings,
kubectl's output) before comparing, so the comparison sees a behaviour change and not a rewording.

A rule must be narrow: it matches only the text the upstream change produces, so it cannot hide a
difference of behaviour (tests/conformance/test_rewrites.py holds each rule to an example of both
wordings and to texts it must leave alone).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

TEXT_KEYS = ("message", "stdout", "stderr", "error")
# A value as either release renders it after "Invalid value: " (JSON since 1.34, Go's %#v before).
_VALUE = (r'(?:"(?:[^"\\]|\\.)*"|0x[0-9a-f]+|-?\d[\d.eE+-]*|true|false|null|\[[^\]]*\]|\{[^}]*\}'
          r'|\[\]\w+\{[^}]*\})')


@dataclass(frozen=True)
class Rewrite:
    name: str
    pattern: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]
    change: str          # the upstream change that made the newer wording
    example: tuple[str, str]   # (reference text, the sandbox's release's text)

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.replace, text)


def _go_string_slice(m: re.Match[str]) -> str:
    items = re.findall(r'"(?:[^"\\]|\\.)*"', m.group(2))
    return m.group(1) + " value: []string{" + ", ".join(items) + "}"


REWRITES: tuple[Rewrite, ...] = (
    Rewrite(
        "rule on an object",
        re.compile(r"Invalid value: (?!" + _VALUE + r"(?::|$))"), 'Invalid value: "object": ',
        "kubernetes/kubernetes 7a43f8bd2739 (apiextensions-apiserver 5a4f85785, 1.35): a failed x-kubernetes-"
        "validations rule on an object or array omits the value; before it the value was the type name "
        "(every rule of the platform's CRDs that the cases break sits on an object)",
        ("spec: Invalid value: .spec is immutable", 'spec: Invalid value: "object": .spec is immutable')),
    Rewrite(
        "null value",
        re.compile(r"Invalid value: null(?=[:,)\]]|$)"), 'Invalid value: "null"',
        "kubernetes/kubernetes 2b2c9adef385 (apimachinery c58e197e, 1.34): field errors render values as "
        "JSON; before it a nil value was the string \"null\"",
        ("spec: Invalid value: null: some validation rules were not checked",
         'spec: Invalid value: "null": some validation rules were not checked')),
    Rewrite(
        "string list value",
        re.compile(r'(Invalid|Unsupported) value: \[((?:"(?:[^"\\]|\\.)*",?)+)\]'), _go_string_slice,
        "kubernetes/kubernetes 2b2c9adef385 (apimachinery c58e197e, 1.34): a []string renders as JSON, "
        "before it as Go's %#v",
        ('dryRun: Unsupported value: ["Yes"]', 'dryRun: Unsupported value: []string{"Yes"}')),
    Rewrite(
        "unsigned resourceVersion",
        re.compile(r"(Invalid value: )(\d+)(?=: must be specified for an update)"),
        lambda m: f"{m.group(1)}{hex(int(m.group(2)))}",
        "kubernetes/kubernetes 2b2c9adef385 (apimachinery c58e197e, 1.34): a uint64 value renders as JSON "
        "(`0`), before it as Go's %#v (`0x0`)",
        ("metadata.resourceVersion: Invalid value: 0: must be specified for an update",
         "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update")),
    Rewrite(
        "maximum length",
        re.compile(r"may not be more than (\d+) bytes"), r"may not be longer than \1",
        "kubernetes/kubernetes 4d0e1c8fd4c6 (apimachinery 51cdbebd, 1.32): TooLongMaxLength folded into "
        "TooLong, which words the bound in bytes",
        ("spec.x: Too long: may not be more than 32 bytes", "spec.x: Too long: may not be longer than 32")),
)


# How often each rule changed a text in this process: a rule that never fires in a full run is stale.
FIRED: dict[str, int] = {}


def rewrite_text(text: str, rules: tuple[Rewrite, ...] = REWRITES) -> str:
    for rule in rules:
        changed = rule.apply(text)
        if changed != text:
            FIRED[rule.name] = FIRED.get(rule.name, 0) + 1
            text = changed
    return text


def rewrite_reference(node: Any, rules: tuple[Rewrite, ...] = REWRITES, key: str = "") -> Any:
    """A copy of a recording with every text of the reference side in the sandbox's release's words."""
    if isinstance(node, dict):
        return {k: rewrite_reference(v, rules, k) for k, v in node.items()}
    if isinstance(node, list):
        if key == "warnings":
            return [rewrite_text(w, rules) if isinstance(w, str) else w for w in node]
        return [rewrite_reference(v, rules, key) for v in node]
    if isinstance(node, str) and key in TEXT_KEYS:
        return rewrite_text(node, rules)
    return node
