"""RBAC: a read-only user (the sandbox's viewer) gets a clear 403 from every module and role that writes,
and the audit shows none of its writes went through."""
from __future__ import annotations

INFO = "deckhouse.virtualization.virtual_image_info"


def test_viewer_gets_a_clear_403_from_every_writer(play, sandbox, every_writer):
    tasks = [t for t in every_writer.tasks if INFO not in t]
    for index, task in enumerate(tasks):
        task["register"] = "w%d" % index
        if "ansible.builtin.include_role" in task:
            role = task["ansible.builtin.include_role"]["name"].split(".")[-1]
            # only the context as a role variable: the kubeconfig still comes from module_defaults (mixed)
            task["vars"].update({"%s_context" % role: "dvp-sandbox-viewer"})
            tasks[index] = {"block": [{k: v for k, v in task.items() if k != "register"}],
                            "rescue": [{"ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"},
                                        "register": "w%d" % index}]}
        else:
            task["ignore_errors"] = True
    sandbox.clear_audit()
    run = play(tasks, defaults={"context": "dvp-sandbox-viewer"})
    problems = []
    for index in range(len(tasks)):
        msg = str(run.results.get("w%d" % index, {}).get("msg", ""))
        if "Forbidden (403)" not in msg or "not allowed to" not in msg:
            problems.append((index, msg[:300]))
    assert not problems, problems
    assert [a for a in sandbox.audit() if a.get("user") == "viewer" and a.get("code") in (200, 201)
            and a.get("method") in ("POST", "PUT", "PATCH", "DELETE")] == []
