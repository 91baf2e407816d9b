"""The built tarball as Galaxy imports it: galaxy-importer, with its default settings (ansible-doc on every
plugin, ansible-lint with Galaxy's rules, no ansible-test and so no container), in a venv of its own.

It must end with "Importer processing completed successfully" and log no error and no warning, but for the
ansible-test ignore files, which Galaxy reports whatever they hold: they may skip only the GPLv3 header check of
validate-modules, which an Apache-2.0 collection cannot pass. Every module, role and playbook of the checkout is
in the result, every module with its documentation, and the README is rendered.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from packaging_support import REPO, fresh_venv, run, user_env

REQUIREMENTS = Path(__file__).with_name("requirements-galaxy-importer.txt")
DONE = "Importer processing completed successfully"
IGNORE_FILE_WARNING = re.compile(r"WARNING: Ignore files skip ansible-test sanity tests, found (ignore-[0-9.]+\.txt) "
                                 r"with \d+ statement\(s\)")


@pytest.fixture(scope="session")
def importer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv with galaxy-importer and the tools it runs (ansible-doc, ansible-lint)."""
    where = tmp_path_factory.mktemp("galaxy-importer")
    return fresh_venv(where / "venv", "-r", str(REQUIREMENTS), cwd=where)


def _only_gplv3_ignores(name: str) -> List[str]:
    """The statements of tests/sanity/<name> that are not the validate-modules GPLv3 header check."""
    lines = (REPO / "tests" / "sanity" / name).read_text().splitlines()
    return [line for line in lines if line.strip() and not re.fullmatch(
        r"plugins/modules/\w+\.py validate-modules:missing-gplv3-license( #.*)?", line.strip())]


def _findings(log: str) -> List[str]:
    """The importer's warnings (ansible-lint's findings among them), but for ignore files that skip only the
    GPLv3 header check; for the others, the statements that skip something else."""
    findings = []
    for line in log.splitlines():
        ignore = IGNORE_FILE_WARNING.fullmatch(line.strip())
        if ignore:
            findings += ["%s: %s" % (ignore.group(1), s) for s in _only_gplv3_ignores(ignore.group(1))]
        elif "WARNING" in line:
            findings.append(line)
    return findings


def _result(stdout: str) -> Dict[str, Any]:
    """The JSON that --print-result prints after the log."""
    _log, brace, data = stdout.partition("\n{\n")
    assert brace, "no result printed:\n%s" % stdout[-3000:]
    return json.loads("{\n" + data)


@pytest.mark.timeout(900)
def test_galaxy_importer_imports_the_tarball_with_no_error_and_no_finding(
        importer: Path, collection_tarball: Path, tmp_path: Path) -> None:
    env = user_env(path=[importer], HOME=str(tmp_path / "home"))
    proc = run([importer / "python", "-m", "galaxy_importer.main", "--print-result", collection_tarball],
               env=env, cwd=tmp_path, timeout=600)
    log = proc.stdout.partition("\n{\n")[0]
    assert DONE in log, log[-3000:]
    assert "ERROR" not in log + proc.stderr, log + proc.stderr
    assert "...ansible-lint run complete" in log, "ansible-lint did not run:\n%s" % log
    findings = _findings(log)
    assert not findings, "\n".join(findings)

    result = _result(proc.stdout)
    assert result["metadata"]["license"] == ["Apache-2.0"]
    found = {(c["content_type"], c["name"]) for c in result["contents"]}
    modules = {p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}
    roles = {p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file()}
    playbooks = {p.name for p in (REPO / "playbooks").glob("*.yml")}
    expected = ({("module", m) for m in modules} | {("role", r) for r in roles}
                | {("playbook", p) for p in playbooks})
    assert expected <= found, expected - found
    documented = {c["content_name"] for c in result["docs_blob"]["contents"]
                  if c["content_type"] == "module" and (c.get("doc_strings") or {}).get("doc")}
    assert documented == modules, modules - documented
    assert "Included content" in result["docs_blob"]["collection_readme"]["html"]
