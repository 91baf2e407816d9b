# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""One result row per catalog object and the summary table the roles print.

Built here, once, so the table and the result variable always carry the same data.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import FANOUT_LABEL

VERB_WORDS = {"create": "created", "patch": "updated", "keep": "unchanged", "delete": "deleted",
              "refuse": "refused", "recreate": "recreated", "held": "in use, not pruned"}
# What check mode says instead, for the verbs that write (keep and refuse read the same either way).
CHECK_WORDS = {"create": "would create", "patch": "would update", "delete": "would delete",
               "recreate": "would recreate"}
COLUMNS = (("namespace", "NAMESPACE"), ("name", "IMAGE"), ("result", "RESULT"), ("phase", "PHASE"),
           ("size", "SIZE"), ("format", "FORMAT"), ("time", "TIME"))


def result_row(action: Any, obj: Optional[Mapping[str, Any]], changed: bool, error: str, seconds: float,
               phases: List[Dict[str, Any]], check_mode: bool) -> Dict[str, Any]:
    """What happened to one object, flat enough for templates and the table."""
    status = (obj or {}).get("status") or {}
    size = status.get("size") or {}
    labels = ((obj or {}).get("metadata") or {}).get("labels") or \
        (((action.wanted.manifest if action.wanted else {}) or {}).get("metadata") or {}).get("labels") or {}
    words = CHECK_WORDS if check_mode else VERB_WORDS
    data_source = ((((obj or {}).get("spec") or {}).get("dataSource") or {}).get("objectRef") or {})
    return {
        "ref": action.kind.ref(action.name, action.namespace),
        "kind": action.kind.kind,
        "namespace": action.namespace,
        "name": action.name,
        "entry": action.wanted.entry.label if action.wanted else None,
        "action": action.verb,
        "result": "failed" if error and action.verb != "refuse" else words.get(action.verb, VERB_WORDS[action.verb]),
        "changed": changed,
        "phase": None if action.verb == "delete" and not check_mode else cond.phase(obj),
        "progress": cond.progress(obj),
        "size": size.get("unpacked"),
        "stored_size": size.get("stored"),
        "format": status.get("format"),
        "seconds": round(seconds, 2),
        "phases": phases,
        "error": error,
        "note": action.message if action.verb == "held" else None,
        "hub": FANOUT_LABEL in labels,
        "copied_from": data_source.get("name") if action.wanted and action.wanted.hub else None,
    }


def _cell(row: Mapping[str, Any], key: str) -> str:
    if key == "namespace":
        return row["namespace"] or ("(fan-out)" if row["hub"] else "(cluster)")
    if key == "time":
        return "%.1fs" % row["seconds"]
    value = row.get(key)
    return "-" if value in (None, "") else str(value)


TRACK_COLUMNS = (("namespace", "NAMESPACE"), ("track", "TRACK"), ("newest", "NEWEST"), ("label", "LABEL"),
                 ("kept", "KEPT"), ("deleted", "DELETED"))


def _track_cell(row: Mapping[str, Any], key: str) -> str:
    if key == "namespace":
        return row["namespace"] or "(cluster)"
    if key == "kept":
        return ", ".join("%s (%s)" % (k["name"], k["reason"]) for k in row["kept"] + row.get("held", [])) or "-"
    if key == "deleted":
        return ", ".join(row["deleted"]) or "-"
    return str(row.get(key) or "-")


def _aligned(columns: Any, cells: List[List[str]], rows: List[Mapping[str, Any]]) -> List[str]:
    """Header and rows in aligned columns; a failed row's message on the line after it."""
    cells = [[header for _key, header in columns]] + cells
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines: List[str] = []
    for index, line in enumerate(cells):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if index and rows[index - 1]["error"]:
            lines.append("  ! " + rows[index - 1]["error"])
    return lines


def table(rows: List[Mapping[str, Any]]) -> List[str]:
    """Aligned text lines (header first); failures get their message on the next line."""
    return _aligned(COLUMNS, [[_cell(row, key) for key, _header in COLUMNS] for row in rows], rows)


def track_table(rows: List[Mapping[str, Any]]) -> List[str]:
    """The tracks after the images (nothing when the catalog has none): the newest version, the label, the versions
    kept (and why) and deleted."""
    if not rows:
        return []
    return [""] + _aligned(TRACK_COLUMNS, [[_track_cell(row, key) for key, _h in TRACK_COLUMNS] for row in rows], rows)
