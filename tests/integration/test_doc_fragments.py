"""The documentation ansible-doc renders (each module's own YAML plus the shared doc fragments) tells what the
plugins do, and an option shared by several modules reads the same in each (no sandbox)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DOC = REPO / ".venv" / "bin" / "ansible-doc"
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))
ACTION_PLUGINS = {path.stem for path in (REPO / "plugins" / "action").glob("*.py")}
# What an option path must say alike in every module that has it.
COMPARED = ("description", "type", "default", "choices")
IMAGES = ("virtual_image", "cluster_virtual_image")
IMAGE_WAIT = IMAGES + ("virtual_image_upload",)  # doc fragment wait.image
GENERIC_WAIT = ("virtual_image_capture", "virtual_machine_operation")  # doc fragment wait
OWN_OBJECT = "names the module's own object (image, disk, snapshot, VM, catalog) or what it does with it"
# (option path, field) that may differ between modules: why, and the groups of modules that must still agree on it
# (their texts are written out in each of them).
MAY_DIFFER: Dict[Tuple[str, str], Tuple[str, Tuple[Tuple[str, ...], ...]]] = {
    ("name", "description"): (OWN_OBJECT, ()),
    ("namespace", "description"): (OWN_OBJECT, ()),
    ("state", "description"): (OWN_OBJECT, (IMAGES,)),
    ("labels", "description"): (OWN_OBJECT, (IMAGES,)),
    ("annotations", "description"): (OWN_OBJECT, (IMAGES,)),
    ("recreate", "description"): (OWN_OBJECT, (IMAGES,)),
    ("force", "description"): (OWN_OBJECT, (IMAGES,)),
    ("definition", "description"): (OWN_OBJECT, ()),
    ("src", "description"): (OWN_OBJECT, ()),
    ("storage", "description"): (OWN_OBJECT, ()),
    ("storage_class", "description"): (OWN_OBJECT, ()),
    ("disk", "description"): (OWN_OBJECT, ()),
    ("required_consistency", "description"): (OWN_OBJECT, ()),
    ("cluster", "description"): (OWN_OBJECT, ()),
    ("catalog", "description"): ("the catalog to seed, or a filter when listing", ()),
    ("catalog", "default"): ("seeding needs a catalog name; listing filters only when given", ()),
    ("label_selectors", "description"): ("lists images or disks", ()),
    ("phase", "description"): ("phases of images or of disks", ()),
    ("phase", "choices"): ("phases of images or of disks", ()),
    ("wait", "description"): ("what the wait ends on depends on the object", (IMAGE_WAIT, GENERIC_WAIT)),
    ("wait_timeout", "description"): (
        "what the timeout message names depends on the object; the catalog's spans the whole catalog",
        (IMAGE_WAIT + ("virtual_disk",), GENERIC_WAIT + ("virtual_disk_snapshot",))),
    ("source", "description"): ("an image needs one source, a disk may be blank", (IMAGES,)),
    ("source.container_image.registry_credentials", "description"): ("the Secret belongs to an image or a disk",
                                                                     (IMAGES,)),
    ("source.container_image.image_pull_secret", "description"): (
        "a namespaced object's Secret is in its namespace; a ClusterVirtualImage's is named with its namespace", ()),
    ("source.container_image.image_pull_secret", "type"): (
        "a ClusterVirtualImage names the Secret's namespace too", (("virtual_image", "virtual_disk"),)),
    ("source.object_ref", "description"): ("what may be copied from depends on the object made", ()),
    ("source.object_ref.kind", "choices"): ("a disk is not filled from another disk", (IMAGES,)),
    ("source.upload", "description"): ("the module makes an image or a disk", (IMAGES,)),
}


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


def test_upload_options_are_one_text_in_four_modules(docs):
    """source.upload of both image modules and virtual_disk, and virtual_image_upload's own options: same suboptions
    and texts (source.upload.checksum adds that it is also put in the spec, and points at source.http.checksum for
    how a sums file is read, which virtual_image_upload explains itself; references name the option's place)."""
    top = docs["virtual_image_upload"]["options"]
    for module in ("virtual_image", "cluster_virtual_image", "virtual_disk"):
        nested = docs[module]["options"]["source"]["suboptions"]["upload"]["suboptions"]
        for name, option in nested.items():
            description = [line.replace("source.upload.", "") for line in lines(option["description"])]
            expected = lines(top[name]["description"])
            if name == "checksum":
                description = [line for line in description if "spec.dataSource.upload.checksum" not in line]
                pointer = [line for line in description if "read as for O(source.http.checksum)" in line]
                assert len(pointer) == 1, (module, description)
                description = [line if line not in pointer else "<sums file>" for line in description]
                expected = [line if "GNU form" not in line else "<sums file>" for line in expected]
            assert description == expected, (module, name)
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


def option_fields(options: Dict[str, Any], prefix: str = "") -> Dict[str, Dict[str, Any]]:
    """Every option path (``source.http.url``) of a module with the fields compared between modules."""
    found: Dict[str, Dict[str, Any]] = {}
    for name, option in options.items():
        found[prefix + name] = {field: option.get(field) for field in COMPARED}
        found.update(option_fields(option.get("suboptions") or {}, prefix + name + "."))
    return found


def variants(docs: Dict[str, Dict[str, Any]]) -> Dict[Tuple[str, str], Dict[str, List[str]]]:
    """(option path, field) -> each distinct value (as JSON) -> the modules that say it; paths of two or more
    modules only."""
    by_path: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for module, doc in docs.items():
        for path, fields in option_fields(doc["options"]).items():
            by_path.setdefault(path, {})[module] = fields
    found: Dict[Tuple[str, str], Dict[str, List[str]]] = {}
    for path, modules in by_path.items():
        if len(modules) < 2:
            continue
        for field in COMPARED:
            for module, fields in sorted(modules.items()):
                found.setdefault((path, field), {}).setdefault(json.dumps(fields[field]), []).append(module)
    return found


def test_a_shared_option_reads_the_same_in_every_module(docs):
    """The same option path has the same description, type, default and choices wherever it appears, unless
    MAY_DIFFER says why not; even then the modules of one group there agree. A MAY_DIFFER entry that no longer
    differs is an error too, so the list stays what it says."""
    found = variants(docs)
    problems = ["%s %s is listed in MAY_DIFFER but no longer shared" % key for key in MAY_DIFFER if key not in found]
    for key, said in sorted(found.items()):
        if key not in MAY_DIFFER:
            if len(said) > 1:
                problems.append("%s %s differs: %s" % (key[0], key[1], sorted(said.values())))
            continue
        if len(said) == 1:
            problems.append("%s %s is listed in MAY_DIFFER but reads the same everywhere" % key)
        for group in MAY_DIFFER[key][1]:
            texts = {text for text, modules in said.items() if set(modules) & set(group)}
            if len(texts) > 1:
                problems.append("%s %s differs within %s" % (key[0], key[1], group))
    assert not problems, "\n".join(problems)


def test_the_streebog_requirement_reads_the_same_in_every_module(docs):
    lines_about_gost = {line for doc in docs.values() for line in doc.get("requirements", []) if "gostcrypto" in line}
    assert len(lines_about_gost) == 1, lines_about_gost


def test_the_sums_file_is_explained_once_per_module(docs):
    # How a sums file is read (its forms, the errors) is said once in each module that takes one; every other
    # checksum option of the module points at that one.
    explained = {module: json.dumps(doc).count("GNU form") for module, doc in docs.items()}
    takes_sums = {module for module, doc in docs.items() if "sums file" in json.dumps(doc)}
    assert takes_sums >= {"virtual_image", "cluster_virtual_image", "virtual_disk", "virtual_image_upload"}
    assert {module: explained[module] for module in takes_sums if explained[module] != 1} == {}
