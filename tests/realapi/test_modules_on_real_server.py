"""The collection's modules against the real API server for custom resources, on both platform lines.

Only what needs no controller runs here (nothing ever becomes Ready): creates with `wait: false`, re-runs
that must send no write (counted from the real server's audit log), check mode (dry runs only), diff,
strict field validation of the released line's CRDs, and refusals of the CRDs' schemas and CEL rules
surfaced with the real server's message. Every test runs once per line (`realapi` is parametrised).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional


NS = "deckhouse.virtualization."
VI, CVI = NS + "virtual_image", NS + "cluster_virtual_image"
INFO, CATALOG = NS + "virtual_image_info", NS + "image_catalog_apply"
API = "virtualization.deckhouse.io/v1alpha2"
URL = "https://images.example.com/%s.qcow2"
SUMS = {"md5": "0123456789abcdef0123456789abcdef", "sha256": "ab" * 32, "sha512": "cd" * 64}
# The CEL rule on spec.dataSource both lines carry, in each line's words.
CEL_HTTP = {"dev": "HTTP requires http and cannot have ContainerImage, ObjectRef or Upload.",
            "v1.10": "HTTP requires http and cannot have ContainerImage or ObjectRef."}


def stored(realapi: Any, plural: str, name: str, namespace: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The object as the real server stores it, or None (404)."""
    path = "/apis/%s/%s%s/%s" % (API, "namespaces/%s/" % namespace if namespace else "", plural, name)
    got = realapi.session().get(realapi.url + path, verify=realapi.verify, timeout=10)
    assert got.status_code in (200, 404), got.text
    return got.json() if got.status_code == 200 else None


def delete_cluster_images(realapi: Any, names: List[str]) -> None:
    """Cluster-scoped objects outlive a test's namespace: remove them (no garbage collection here)."""
    for name in names:
        realapi.session().delete("%s/apis/%s/clustervirtualimages/%s" % (realapi.url, API, name),
                                 verify=realapi.verify, timeout=10)


def http(name: str, algo: str) -> Dict[str, Any]:
    return {"http": {"url": URL % name, "checksum": {algo: SUMS[algo]}}}


def summary(writes: List[Dict[str, Any]]) -> List[str]:
    return ["%s %s/%s%s" % (w["verb"], w["resource"], w["name"], " (dry run)" if w["dry_run"] else "") for w in writes]


def test_create_without_wait_then_rerun_writes_nothing(play, realapi, namespace, audit):
    """One POST each (strict field validation on), the stored spec is what was asked; the re-run is a no-op."""
    cvis = {algo: "%s-%s" % (namespace, algo) for algo in ("md5", "sha256")}
    tasks = []
    for algo in ("md5", "sha256"):
        tasks += [{VI: {"name": algo, "namespace": namespace, "wait": False, "source": http(algo, algo),
                        "labels": {"suite": namespace}}, "register": "vi_" + algo},
                  {CVI: {"name": cvis[algo], "wait": False, "source": http("cvi", algo)}, "register": "cvi_" + algo}]
    try:
        audit.mark()
        first = play(tasks)
        assert first.rc == 0, first.fatal() or first.stdout
        writes = audit.writes()
        assert summary(writes) == ["create virtualimages/md5", "create clustervirtualimages/%s" % cvis["md5"],
                                   "create virtualimages/sha256", "create clustervirtualimages/%s" % cvis["sha256"]]
        assert all(w["code"] == 201 and "fieldValidation=Strict" in w["uri"] for w in writes), writes
        for algo in ("md5", "sha256"):
            for reg, obj in (("vi_" + algo, stored(realapi, "virtualimages", algo, namespace)),
                             ("cvi_" + algo, stored(realapi, "clustervirtualimages", cvis[algo]))):
                result = first[reg]
                assert result["changed"] is True and not result.get("failed"), result
                assert obj is not None and obj["spec"]["dataSource"]["http"]["checksum"] == {algo: SUMS[algo]}
                assert result["image"]["metadata"]["uid"] == obj["metadata"]["uid"]
                assert obj["metadata"]["generation"] == 1 and not obj.get("status", {}).get("phase")
                assert result["phase"] is None  # no controller: nothing ever sets a phase here
        assert first["vi_md5"]["image"]["spec"]["storage"] == "ContainerRegistry"  # the CRD's default, as stored

        audit.mark()
        again = play(tasks)
        assert again.rc == 0, again.fatal() or again.stdout
        assert [again[reg]["changed"] for reg in again.results] == [False] * 4, again.results
        assert audit.writes() == []  # not even a dry run
    finally:
        delete_cluster_images(realapi, list(cvis.values()))


def test_check_mode_sends_dry_runs_only(play, realapi, namespace, audit):
    """Create and label change in check mode: changed, each a dryRun=All request the real server accepts, nothing
    stored; the dry run answers with what would be stored (defaults included)."""
    cvi_name = "%s-check" % namespace
    keep = {"name": "keep", "namespace": namespace, "wait": False, "source": http("keep", "sha256")}
    try:
        setup = play([{VI: keep}])
        assert setup.rc == 0, setup.fatal()
        before = stored(realapi, "virtualimages", "keep", namespace)
        audit.mark()
        run = play([
            {VI: {"name": "ghost", "namespace": namespace, "wait": False, "source": http("ghost", "md5")},
             "register": "create"},
            {CVI: {"name": cvi_name, "wait": False, "source": http("cvi", "sha256")}, "register": "cluster"},
            {VI: dict(keep, labels={"tier": "gold"}), "register": "relabel"},
        ], check=True)
        assert run.rc == 0, run.fatal() or run.stdout
        assert all(run[n]["changed"] is True for n in ("create", "cluster", "relabel")), run.results
        writes = audit.writes()
        assert summary(writes) == ["create virtualimages/ghost (dry run)",
                                   "create clustervirtualimages/%s (dry run)" % cvi_name,
                                   "patch virtualimages/keep (dry run)"]
        assert all(w["code"] < 300 for w in writes), writes
        assert stored(realapi, "virtualimages", "ghost", namespace) is None
        assert stored(realapi, "clustervirtualimages", cvi_name) is None
        assert stored(realapi, "virtualimages", "keep", namespace) == before
        assert run["create"]["image"]["spec"]["storage"] == "ContainerRegistry"
        assert run["relabel"]["image"]["metadata"]["labels"] == {"tier": "gold"}
    finally:
        delete_cluster_images(realapi, [cvi_name])


# A real API server reads a DELETE's options from its body alone when there is one (apiserver
# endpoints/handlers/delete.go): the client's check mode must say dryRun in the DeleteOptions body, or the
# "dry run" deletes for real (found here; the sandbox now reads the options the same way).
def expect_kept(obj: Optional[Dict[str, Any]]) -> None:
    assert obj is not None, "a check-mode delete deleted the object on the real API server"


def test_check_mode_delete_keeps_the_image(play, realapi, namespace, audit):
    cvi_name = "%s-keep" % namespace
    try:
        setup = play([{VI: {"name": "keep", "namespace": namespace, "wait": False, "source": http("keep", "md5")}},
                      {CVI: {"name": cvi_name, "wait": False, "source": http("keep", "md5")}}])
        assert setup.rc == 0, setup.fatal()
        audit.mark()
        run = play([{VI: {"name": "keep", "namespace": namespace, "state": "absent", "wait": False},
                     "register": "vi"},
                    {CVI: {"name": cvi_name, "state": "absent", "wait": False}, "register": "cvi"}], check=True)
        assert run.rc == 0, run.fatal() or run.stdout
        assert run["vi"]["changed"] is True and run["cvi"]["changed"] is True
        assert summary(audit.writes()) == ["delete virtualimages/keep (dry run)",
                                           "delete clustervirtualimages/%s (dry run)" % cvi_name]
        expect_kept(stored(realapi, "virtualimages", "keep", namespace))
        expect_kept(stored(realapi, "clustervirtualimages", cvi_name))
    finally:
        delete_cluster_images(realapi, [cvi_name])


def test_diff_shows_before_and_after(play, realapi, namespace, audit):
    """--diff on a create (before empty) and on a label change (one PATCH, generation kept), real and check mode."""
    cvi_name = "%s-diff" % namespace
    base = {"name": "img", "namespace": namespace, "wait": False, "source": http("img", "md5")}
    cluster = {"name": cvi_name, "wait": False, "source": http("cvi", "sha256")}
    try:
        audit.mark()
        run = play([{VI: base, "register": "create"}, {CVI: cluster, "register": "cluster"},
                    {VI: dict(base, labels={"tier": "gold"}), "register": "check_relabel", "check_mode": True},
                    {VI: dict(base, labels={"tier": "gold"}), "register": "relabel"},
                    {CVI: dict(cluster, annotations={"note": "x"}), "register": "annotate"},
                    {VI: dict(base, labels={"tier": "gold"}), "register": "same"}], diff=True)
        assert run.rc == 0, run.fatal() or run.stdout
        create = run["create"]["diff"]
        assert create["before"] == {}
        assert create["after"]["spec"]["dataSource"] == {"type": "HTTP", **http("img", "md5")}
        assert create["after"]["metadata"]["name"] == "img"
        assert run["cluster"]["diff"]["before"] == {} and run["cluster"]["diff"]["after"]["kind"] == "ClusterVirtualImage"
        for name in ("check_relabel", "relabel"):
            diff = run[name]["diff"]
            assert run[name]["changed"] is True
            assert "labels" not in diff["before"]["metadata"] and diff["after"]["metadata"]["labels"] == {"tier": "gold"}
            assert diff["before"]["spec"] == diff["after"]["spec"]
        annotate = run["annotate"]["diff"]
        assert not annotate["before"]["metadata"].get("annotations")
        assert annotate["after"]["metadata"]["annotations"] == {"note": "x"}
        assert run["same"]["changed"] is False
        assert run.stdout.count("--- before") >= 5 and '+        "labels": {' in run.stdout, run.stdout
        assert summary(audit.writes()) == ["create virtualimages/img", "create clustervirtualimages/%s" % cvi_name,
                                           "patch virtualimages/img (dry run)", "patch virtualimages/img",
                                           "patch clustervirtualimages/%s" % cvi_name]
        obj = stored(realapi, "virtualimages", "img", namespace)
        assert obj["metadata"]["labels"] == {"tier": "gold"} and obj["metadata"]["generation"] == 1
        assert run["relabel"]["image"]["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    finally:
        delete_cluster_images(realapi, [cvi_name])


def test_sha512_on_each_line(play, realapi, namespace, audit, line):
    """v1.10 has no sha512: the strict refusal (real and dry run) is named by the option, nothing stored; dev
    stores it (and its dry run is accepted)."""
    names = {mode: "%s-sha512-%s" % (namespace, mode) for mode in ("apply", "check")}
    tasks = []
    for mode in ("apply", "check"):
        tasks += [{VI: {"name": mode, "namespace": namespace, "wait": False, "source": http("img", "sha512")},
                   "register": "vi_" + mode, "ignore_errors": True, "check_mode": mode == "check"},
                  {CVI: {"name": names[mode], "wait": False, "source": http("cvi", "sha512")},
                   "register": "cvi_" + mode, "ignore_errors": True, "check_mode": mode == "check"}]
    try:
        audit.mark()
        run = play(tasks)
        assert run.rc == 0, run.stdout
        writes = audit.writes()
        assert [(w["verb"], w["dry_run"]) for w in writes] == [("create", False)] * 2 + [("create", True)] * 2, writes
        if line == "v1.10":
            for mode in ("apply", "check"):
                for reg, kind in (("vi_" + mode, "VirtualImage"), ("cvi_" + mode, "ClusterVirtualImage")):
                    result = run[reg]
                    assert result["failed"] is True, result
                    assert result["msg"].startswith(
                        "source.http.checksum.sha512 (spec.dataSource.http.checksum.sha512): this cluster's "
                        "%s API has no such field" % kind), result["msg"]
                    assert "(sha256 or md5)" in result["msg"] and "nothing was stored" in result["msg"]
                    assert result["unknown_fields"] == ["spec.dataSource.http.checksum.sha512"]
            assert [w["code"] for w in writes] == [400] * 4, writes  # refused by the real server itself
        else:
            for reg in ("vi_apply", "cvi_apply", "vi_check", "cvi_check"):
                assert run[reg]["changed"] is True and not run[reg].get("failed"), run[reg]
            assert [w["code"] for w in writes] == [201] * 4, writes
        for mode in ("apply", "check"):
            created = mode == "apply" and line == "dev"
            for obj in (stored(realapi, "virtualimages", mode, namespace),
                        stored(realapi, "clustervirtualimages", names[mode])):
                assert (obj is not None) is created, obj
                if created:
                    assert obj["spec"]["dataSource"]["http"]["checksum"] == {"sha512": SUMS["sha512"]}
    finally:
        delete_cluster_images(realapi, list(names.values()))


def test_cel_and_schema_refusals_carry_the_platform_message(play, realapi, namespace, audit, line):
    """Definitions the CRDs refuse (a CEL rule, an enum, the CVI's objectRef namespace rule): 422 with the real
    server's message in the task's failure, nothing stored."""
    def vi(name: str, data_source: Dict[str, Any], **spec: Any) -> Dict[str, Any]:
        return {"definition": {"apiVersion": API, "kind": "VirtualImage",
                               "metadata": {"name": name, "namespace": namespace},
                               "spec": dict(spec, dataSource=data_source)}, "wait": False}
    both = {"type": "HTTP", "http": {"url": URL % "x"}, "containerImage": {"image": "registry.example.com/x:1"}}
    cvi_name = "%s-noref" % namespace
    no_namespace = {"definition": {"apiVersion": API, "kind": "ClusterVirtualImage", "metadata": {"name": cvi_name},
                                   "spec": {"dataSource": {"type": "ObjectRef",
                                                           "objectRef": {"kind": "VirtualImage", "name": "x"}}}},
                    "wait": False}
    try:
        audit.mark()
        run = play([{VI: vi("cel", both), "register": "cel", "ignore_errors": True},
                    {VI: vi("cel-check", both), "register": "cel_check", "ignore_errors": True, "check_mode": True},
                    {VI: vi("enum", {"type": "HTTP", "http": {"url": URL % "x"}}, storage="Floppy"),
                     "register": "enum", "ignore_errors": True},
                    {CVI: no_namespace, "register": "noref", "ignore_errors": True}])
        assert run.rc == 0, run.stdout
        for name in ("cel", "cel_check"):
            assert run[name]["failed"] is True, run[name]
            assert CEL_HTTP[line] in run[name]["msg"], run[name]["msg"]
            assert "spec.dataSource" in run[name]["msg"], run[name]["msg"]
        assert run["enum"]["failed"] is True
        assert 'spec.storage: Unsupported value: "Floppy": supported values: ' in run["enum"]["msg"], run["enum"]["msg"]
        assert run["noref"]["failed"] is True
        assert "The namespace is required for VirtualDisk, VirtualImage" in run["noref"]["msg"], run["noref"]["msg"]
        writes = audit.writes()
        assert [w["code"] for w in writes] == [422] * 4, summary(writes)
        assert [w["dry_run"] for w in writes] == [False, True, False, False]
        for name in ("cel", "cel-check", "enum"):
            assert stored(realapi, "virtualimages", name, namespace) is None
        assert stored(realapi, "clustervirtualimages", cvi_name) is None
    finally:
        delete_cluster_images(realapi, [cvi_name])


def test_cluster_catalog_without_wait_then_rerun_writes_nothing(play, realapi, namespace, audit):
    """image_catalog_apply (cluster: the real server has no Namespace kind): one create per entry, labelled with
    the catalog; the re-run lists and writes nothing; check mode of a new entry is a dry run."""
    names = ["%s-a" % namespace, "%s-b" % namespace]
    catalog = {"cluster": True, "catalog": namespace, "wait": False,
               "images": [{"name": names[0], "url": URL % "a", "checksum": {"md5": SUMS["md5"]}},
                          {"name": names[1], "url": URL % "b", "checksum": {"sha256": SUMS["sha256"]}}]}
    try:
        audit.mark()
        first = play([{CATALOG: catalog, "register": "apply"}])
        assert first.rc == 0, first.fatal() or first.stdout
        assert first["apply"]["changed"] is True
        assert sorted(i["action"] for i in first["apply"]["images"]) == ["create", "create"], first["apply"]["images"]
        assert sorted(summary(audit.writes())) == ["create clustervirtualimages/%s" % n for n in names]
        for name, entry in zip(names, catalog["images"]):
            obj = stored(realapi, "clustervirtualimages", name)
            assert obj["metadata"]["labels"]["virtualization.deckhouse.io/ansible-catalog"] == namespace
            assert obj["spec"]["dataSource"]["http"] == {"url": entry["url"], "checksum": entry["checksum"]}

        audit.mark()
        again = play([{CATALOG: catalog, "register": "apply"}])
        assert again.rc == 0, again.fatal() or again.stdout
        assert again["apply"]["changed"] is False
        assert [i["action"] for i in again["apply"]["images"]] == ["keep", "keep"]
        assert audit.writes() == []

        grown = dict(catalog, images=catalog["images"] + [{"name": "%s-c" % namespace, "url": URL % "c"}])
        audit.mark()
        dry = play([{CATALOG: grown, "register": "apply"}], check=True)
        assert dry.rc == 0, dry.fatal() or dry.stdout
        assert dry["apply"]["changed"] is True
        assert summary(audit.writes()) == ["create clustervirtualimages/%s-c (dry run)" % namespace]
        assert stored(realapi, "clustervirtualimages", "%s-c" % namespace) is None
    finally:
        delete_cluster_images(realapi, names + ["%s-c" % namespace])


def test_info_lists_what_was_created(play, realapi, namespace, audit):
    """virtual_image_info by namespace, label, name and cluster-wide; phases are unset (no controller here)."""
    cvi_name = "%s-info" % namespace
    try:
        run = play([
            {VI: {"name": "a", "namespace": namespace, "wait": False, "labels": {"os": "x"}, "source": http("a", "md5")}},
            {VI: {"name": "b", "namespace": namespace, "wait": False, "source": http("b", "sha256")}},
            {CVI: {"name": cvi_name, "wait": False, "labels": {"suite": namespace}, "source": http("c", "md5")}},
        ])
        assert run.rc == 0, run.fatal() or run.stdout
        audit.mark()
        info = play([
            {INFO: {"namespace": namespace}, "register": "all"},
            {INFO: {"namespace": namespace, "label_selectors": ["os=x"]}, "register": "by_label"},
            {INFO: {"namespace": namespace, "name": "b"}, "register": "by_name"},
            {INFO: {"namespace": namespace, "name": "missing"}, "register": "missing"},
            {INFO: {"cluster": True, "label_selectors": ["suite=%s" % namespace]}, "register": "cluster"},
            {INFO: {}, "register": "everywhere"},
        ])
        assert info.rc == 0, info.fatal() or info.stdout
        assert audit.writes() == []
        assert [s["name"] for s in info["all"]["summary"]] == ["a", "b"]
        assert all(s["namespace"] == namespace and s["kind"] == "VirtualImage" for s in info["all"]["summary"])
        assert [s["phase"] for s in info["all"]["summary"]] == [None, None]
        assert [i["metadata"]["name"] for i in info["by_label"]["images"]] == ["a"]
        assert [i["metadata"]["name"] for i in info["by_name"]["images"]] == ["b"]
        assert info["missing"]["images"] == []
        assert [(s["name"], s["namespace"], s["kind"]) for s in info["cluster"]["summary"]] == [
            (cvi_name, None, "ClusterVirtualImage")]
        mine = [(i["metadata"].get("namespace"), i["metadata"]["name"]) for i in info["everywhere"]["images"]
                if i["metadata"].get("namespace") == namespace]
        assert mine == [(namespace, "a"), (namespace, "b")]
    finally:
        delete_cluster_images(realapi, [cvi_name])


def test_cluster_catalog_prune_in_check_mode_keeps_the_images(play, realapi, namespace, audit):
    names = ["%s-a" % namespace, "%s-b" % namespace]
    catalog = {"cluster": True, "catalog": namespace, "wait": False,
               "images": [{"name": n, "url": URL % n} for n in names]}
    try:
        setup = play([{CATALOG: catalog}])
        assert setup.rc == 0, setup.fatal()
        audit.mark()
        run = play([{CATALOG: dict(catalog, images=catalog["images"][:1], prune=True), "register": "apply"}],
                   check=True)
        assert run.rc == 0, run.fatal() or run.stdout
        assert [p["name"] for p in run["apply"]["pruned"]] == [names[1]], run["apply"]
        assert summary(audit.writes()) == ["delete clustervirtualimages/%s (dry run)" % names[1]]
        expect_kept(stored(realapi, "clustervirtualimages", names[1]))
    finally:
        delete_cluster_images(realapi, names)
