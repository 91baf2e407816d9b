"""The documentation ansible-doc renders from the composed doc fragments tells what the plugins do (no sandbox)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DOC = REPO / ".venv" / "bin" / "ansible-doc"
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))
ACTION_PLUGINS = {path.stem for path in (REPO / "plugins" / "action").glob("*.py")}


@pytest.fixture(scope="module")
def docs(collections_root: Path) -> Dict[str, Dict[str, Any]]:
    """module name -> its rendered documentation."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_root))
    names = ["deckhouse.virtualization.%s" % module for module in MODULES]
    out = subprocess.run([str(ANSIBLE_DOC), "--json", *names], env=env, capture_output=True, text=True, check=True,
                         timeout=120)
    rendered = json.loads(out.stdout)
    return {name.rsplit(".", 1)[-1]: entry["doc"] for name, entry in rendered.items()}


def test_progress_file_is_set_by_an_action_plugin_wherever_it_is_taken(docs):
    for module, doc in docs.items():
        option = doc["options"].get("progress_file")
        if option is None:
            continue
        text = " ".join(lines(option["description"]))
        assert module in ACTION_PLUGINS, module  # only an action plugin sets and shows it
        assert "set by the action plugin" in text, module


def test_wait_speaks_of_images_only_for_image_modules(docs):
    for module, doc in docs.items():
        wait = doc["options"].get("wait")
        if wait is None or module == "image_catalog_apply":  # the catalog words its own
            continue
        about_images = "image is C(Ready)" in " ".join(lines(wait["description"]))
        assert about_images == (module in ("virtual_image", "cluster_virtual_image", "virtual_image_upload")), module


def test_upload_options_are_one_text_in_three_modules(docs):
    """source.upload of both image modules and virtual_image_upload's own options: same suboptions and texts
    (source.upload.checksum adds that it is also put in the spec; references name the option's place)."""
    top = docs["virtual_image_upload"]["options"]
    for module in ("virtual_image", "cluster_virtual_image"):
        nested = docs[module]["options"]["source"]["suboptions"]["upload"]["suboptions"]
        for name, option in nested.items():
            description = [line.replace("source.upload.", "") for line in lines(option["description"])]
            if name == "checksum":
                description = [line for line in description if "spec.dataSource.upload.checksum" not in line]
            assert description == lines(top[name]["description"]), (module, name)
            assert option.get("suboptions") == top[name].get("suboptions"), (module, name)
        http = docs[module]["options"]["source"]["suboptions"]["http"]["suboptions"]
        assert http["checksum"]["suboptions"] == top["checksum"]["suboptions"]


def lines(description: Any) -> List[str]:
    """A description as its list of paragraphs (YAML allows a single string)."""
    return description if isinstance(description, list) else [description]


def test_catalog_manifests_are_documented_as_read_by_the_action_plugin(docs):
    options = docs["image_catalog_apply"]["options"]
    assert "The action plugin reads them on the controller" in " ".join(lines(options["manifests"]["description"]))
    assert "The action plugin appends the documents it reads from O(manifests)" in \
        " ".join(lines(options["definitions"]["description"]))
