"""No import cycles in plugins/ or sandbox/ (no sandbox needed).

Every `import` / `from ... import` of a file counts, at any nesting level: one inside a function (a lazy
import), a branch or `if TYPE_CHECKING:` (a type-only dependency) still ties the two modules together.
An import is mapped to a module of the same tree: `from pkg import name` counts as importing `pkg.name` when that is a submodule, otherwise
`pkg` (a package's `__init__` is a module); relative imports are resolved against the importing package.
A cycle is a strongly connected component of more than one module, or a module importing itself.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

REPO = Path(__file__).resolve().parent.parent
TREES = {
    "plugins": (REPO / "plugins", "ansible_collections.deckhouse.virtualization.plugins"),
    "sandbox": (REPO / "sandbox", "sandbox"),
}


@dataclass(frozen=True)
class Edge:
    """`source` imports `target` at `line` of `path`."""

    source: str
    target: str
    path: Path
    line: int


def module_names(root: Path, package: str) -> Dict[str, Path]:
    """Dotted module name -> file, for every .py file under root (root itself is `package`)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([package] + parts)] = path
    return modules


def _base(module: str, path: Path, node: ast.ImportFrom) -> Optional[str]:
    """The absolute name a `from X import ...` reads from (None: a relative import escaping the tree)."""
    if not node.level:
        return node.module
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if node.level - 1 >= len(here):
        return None
    parts = here[:len(here) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _targets(module: str, path: Path, node: ast.AST, modules: Dict[str, Path]) -> List[str]:
    """The modules of the tree one import statement loads (by the rules in the module docstring)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = _base(module, path, node)
    if base is None:
        return []
    found = []
    for alias in node.names:
        submodule = "%s.%s" % (base, alias.name)
        if submodule in modules:
            found.append(submodule)
        elif base in modules:
            found.append(base)
    return found


def import_edges(root: Path, package: str) -> List[Edge]:
    """Every import between modules of the tree, each with where it is written (sorted, no repeats)."""
    modules = module_names(root, package)
    edges = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(module, path, node, modules):
                edges.add(Edge(module, target, path, node.lineno))
    return sorted(edges, key=lambda e: (str(e.path), e.line, e.target))


def strongly_connected(nodes: Set[str], graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Tarjan's strongly connected components (iterative), each sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    components = []
    for start in sorted(nodes):
        if start in index:
            continue
        work: List[Tuple[str, List[str]]] = [(start, sorted(graph.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def import_cycles(root: Path, package: str) -> List[List[Edge]]:
    """Each cycle as the imports that close it (those between members of one component)."""
    edges = import_edges(root, package)
    graph: Dict[str, Set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    cycles = []
    for component in strongly_connected(set(module_names(root, package)), graph):
        members = set(component)
        if len(component) > 1 or component[0] in graph.get(component[0], ()):
            cycles.append([e for e in edges if e.source in members and e.target in members])
    return cycles


def describe(cycles: List[List[Edge]]) -> str:
    lines = []
    for number, cycle in enumerate(cycles, 1):
        files = sorted({str(e.path.relative_to(REPO) if e.path.is_relative_to(REPO) else e.path) for e in cycle})
        lines.append("cycle %d: %s" % (number, ", ".join(files)))
        for e in cycle:
            where = e.path.relative_to(REPO) if e.path.is_relative_to(REPO) else e.path
            lines.append("    %s:%d  %s -> %s" % (where, e.line, e.source, e.target))
    return "\n".join(lines)


@pytest.mark.parametrize("tree", sorted(TREES))
def test_no_import_cycles(tree: str) -> None:
    root, package = TREES[tree]
    assert len(module_names(root, package)) > 5, "%s: no modules found under %s" % (tree, root)
    cycles = import_cycles(root, package)
    assert not cycles, "import cycles in %s/:\n%s" % (tree, describe(cycles))


def test_edges_are_found_in_the_real_trees() -> None:
    """The mapping sees the imports the trees really use: absolute ones in plugins/ (every module reaches
    module_utils), relative ones in sandbox/ (every `from .x import` naming a module file on disk)."""
    root, package = TREES["plugins"]
    sources = {(e.source, e.target.split(".")[len(package.split("."))]) for e in import_edges(root, package)}
    modules = [package + ".modules." + path.stem for path in sorted((root / "modules").glob("*.py"))]
    assert modules and [m for m in modules if (m, "module_utils") not in sources] == []
    root, package = TREES["sandbox"]
    found = {(e.path, e.line) for e in import_edges(root, package)}
    expected = set()
    for path in module_names(root, package).values():  # resolved through the file system here, through dotted names by the checker
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                base = path.parents[node.level - 1].joinpath(*node.module.split("."))
                if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
                    expected.add((path, node.lineno))
    assert len(expected) > 20 and expected - found == set()


def _write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_checker_finds_cycles_in_a_throwaway_tree(tmp_path: Path) -> None:
    """A module-level cycle, a lazy (in-function) one, a submodule imported by `from pkg import name`,
    a package __init__ in a cycle and a self-import are all reported; an acyclic tree is not."""
    root = _write(tmp_path / "pkg", {
        "__init__.py": "from .top import VALUE\n",
        "top.py": "import pkg\nVALUE = 1\n",                         # __init__ <-> top
        "a.py": "from pkg.sub import b\n",                           # a -> pkg.sub.b (a submodule)
        "sub/__init__.py": "",
        "sub/b.py": "def late():\n    from .. import a\n    return a\n",  # lazy: b -> pkg.a
        "self_ref.py": "from . import self_ref\n",
        "leaf.py": "import os\nfrom .sub import b as _unused\n",     # leaf -> b, nothing back: no cycle
    })
    cycles = import_cycles(root, "pkg")
    found = sorted(sorted({e.source for e in cycle}) for cycle in cycles)
    assert found == [["pkg", "pkg.top"], ["pkg.a", "pkg.sub.b"], ["pkg.self_ref"]], describe(cycles)
    lazy = next(c for c in cycles if {e.source for e in c} == {"pkg.a", "pkg.sub.b"})
    assert Edge("pkg.sub.b", "pkg.a", root / "sub" / "b.py", 2) in lazy
    assert "sub/b.py" in describe(cycles) and "a.py" in describe(cycles)

    acyclic = _write(tmp_path / "flat", {"__init__.py": "", "x.py": "from flat import y\n",
                                         "y.py": "def f():\n    import flat.z\n", "z.py": "import flat\n"})
    assert import_cycles(acyclic, "flat") == []


def test_imports_in_branches_and_type_checking_blocks_count(tmp_path: Path) -> None:
    root = _write(tmp_path / "tc", {
        "__init__.py": "",
        "hints.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .user import User\n",
        "user.py": "from .hints import *\n",
        "guarded.py": "import sys\nif sys.version_info > (3,):\n    pass\nelse:\n    from . import other\n",
        "other.py": "try:\n    pass\nexcept ImportError:\n    from .guarded import x\n",
        "alone.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .user import User\n",
    })
    cycles = import_cycles(root, "tc")
    assert sorted(sorted({e.source for e in c}) for c in cycles) == [["tc.guarded", "tc.other"], ["tc.hints", "tc.user"]], \
        describe(cycles)


def test_checker_resolves_absolute_names_under_a_dotted_package(tmp_path: Path) -> None:
    """The plugins tree is named by a dotted prefix and has no __init__ files (namespace packages)."""
    prefix = "ansible_collections.ns.coll.plugins"
    root = _write(tmp_path / "plugins", {
        "module_utils/one.py": "def f():\n    from %s.module_utils.two import g\n" % prefix,
        "module_utils/two.py": "from %s.module_utils import one\n" % prefix,
        "modules/mod.py": "from ..module_utils.one import f\n",
    })
    cycles = import_cycles(root, prefix)
    assert [sorted({e.source for e in c}) for c in cycles] == [[prefix + ".module_utils.one", prefix + ".module_utils.two"]]
