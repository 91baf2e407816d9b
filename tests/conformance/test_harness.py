"""The conformance harness itself: the normaliser, the rewrite rules, the deviation table and the matcher.

These run in `make test` with no server: they hold the harness to failing when it should.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conformance.compare import compare_case  # noqa: E402
from conformance.deviations import LISTED, TableError, apply_rows, parse_field, parse_table  # noqa: E402
from conformance.harness import Normaliser, object_path_of  # noqa: E402
from conformance.rewrites import REWRITES, rewrite_reference, rewrite_text  # noqa: E402

START, END = "<!-- conformance-deviations:start -->", "<!-- conformance-deviations:end -->"


def table(*rows: str) -> str:
    return "\n".join([START, "| steps | may differ | reason | collection |", "|---|---|---|---|", *rows, END])


def status(code: int, reason: str, message: str, causes: list | None = None) -> dict:
    st = {"status": "Failure", "reason": reason, "message": message, "code": code}
    if causes is not None:
        st["details"] = {"causes": causes}
    return {"code": code, "status": st}


# -- the normaliser ------------------------------------------------------------------------------------

def test_normaliser_numbers_uids_and_versions_in_order_of_first_sight() -> None:
    n = Normaliser()
    first = n.obj({"metadata": {"uid": "u-1", "resourceVersion": "17", "creationTimestamp": "2026-01-01T00:00:00Z"}})
    second = n.obj({"metadata": {"uid": "u-1", "resourceVersion": "18"}})
    assert first == {"metadata": {"uid": "<uid1>", "resourceVersion": "<rv1>", "creationTimestamp": "<time>"}}
    # the same uid is the same token, a new resourceVersion a new one: "changed" and "unchanged" still compare
    assert second == {"metadata": {"uid": "<uid1>", "resourceVersion": "<rv2>"}}
    assert n.obj({"message": "UID in object meta: u-1"}) == {"message": "UID in object meta: <uid1>"}


def test_normaliser_keeps_everything_else() -> None:
    n = Normaliser()
    body = {"spec": {"size": "1Gi", "resourceVersion": ""}, "items": [{"generation": 2}]}
    assert n.obj(body) == body


# -- the rewrite rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", REWRITES, ids=lambda r: r.name)
def test_each_rule_turns_its_example_into_the_older_wording(rule) -> None:
    newer, older = rule.example
    assert rule.apply(newer) == older
    assert rule.change.startswith("kubernetes/kubernetes ")
    assert rule.apply(older) == older, "a rule must leave the older wording as it is"


@pytest.mark.parametrize("text", [
    'spec.dataSource.type: Unsupported value: "Bogus": supported values: "HTTP", "ContainerImage"',
    'spec.size: Invalid value: "1 Gi": spec.size in body should match \'^x$\'',
    "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
    "spec.force: Invalid value: true: must be false",
    "spec.count: Invalid value: 3: must be at most 2",
    "the object has been modified; please apply your changes to the latest version and try again",
])
def test_rules_leave_texts_of_the_same_release_alone(text: str) -> None:
    assert rewrite_text(text) == text


def test_rewrites_touch_only_the_reference_sides_texts() -> None:
    rec = {"code": 422, "status": {"message": "spec: Invalid value: null: x",
                                   "details": {"causes": [{"message": "Invalid value: null: x", "field": "spec"}]}},
           "warnings": ["a: Invalid value: null: w"], "body": {"spec": {"note": "Invalid value: null: kept"}}}
    out = rewrite_reference(rec)
    assert out["status"]["message"] == 'spec: Invalid value: "null": x'
    assert out["status"]["details"]["causes"][0]["message"] == 'Invalid value: "null": x'
    assert out["warnings"] == ['a: Invalid value: "null": w']
    assert out["body"]["spec"]["note"] == "Invalid value: null: kept", "object data is never rewritten"


# -- the deviation table -------------------------------------------------------------------------------

def test_a_row_must_name_steps_not_whole_cases() -> None:
    with pytest.raises(TableError, match="never a whole case"):
        parse_table(table("| `*/vmop/immutable` | `status.message` | r | no |"))


def test_a_row_must_name_fields() -> None:
    with pytest.raises(TableError, match="fields"):
        parse_table(table("| `*/*/x#y` | anything | r | no |"))


@pytest.mark.parametrize("name", ["code", "status.reason", "status.code", "rc"])
def test_outcomes_can_only_be_listed_with_both_values(name: str) -> None:
    with pytest.raises(TableError, match="both values"):
        parse_field(name)
    f = parse_field(f"{name}: 422 -> 500")
    assert (f.real, f.sandbox, f.valued) == (422, 500, True)


def test_apply_rows_masks_only_the_named_fields() -> None:
    rows = parse_table(table("| `dev/vi/x#s` | `status.message`, `status.details.causes[*].message` | r | no |"))
    real = status(422, "Invalid", "real words", [{"field": "spec", "message": "a"}])
    sandbox = status(422, "Invalid", "other words", [{"field": "spec", "message": "b"}])
    ma, mb, problems = apply_rows(real, sandbox, rows)
    assert ma == mb and not problems
    assert ma["status"]["message"] == LISTED
    # a cause's field is not named: it still compares
    sandbox["status"]["details"]["causes"][0]["field"] = "spec.other"
    ma, mb, _problems = apply_rows(real, sandbox, rows)
    assert ma != mb


def test_a_valued_row_holds_only_for_its_values() -> None:
    rows = parse_table(table("| `dev/vi/x#s` | `code: 422 -> 500`, `status.reason: Invalid -> InternalError`, "
                             "`status.message` | r | no |"))
    ma, mb, problems = apply_rows(status(422, "Invalid", "m"), status(500, "InternalError", "n"), rows)
    assert ma == mb and not problems
    _real, _sandbox, problems = apply_rows(status(422, "Invalid", "m"), status(200, "InternalError", "n"), rows)
    assert problems and "code: the row says 422 -> 500, seen 422 -> 200" in problems[0]


# -- the matcher -------------------------------------------------------------------------------------

ROWS = table("| `dev/vi/patch-invalid#patch` | `status.message` | wording | no |")


def test_a_listed_step_still_compares_its_code_reason_and_stored_object() -> None:
    rows = parse_table(ROWS)
    real = [("patch", dict(status(422, "Invalid", "x"), stored={"code": 200, "body": {"spec": {"a": 1}}}))]
    same_but_words = [("patch", dict(status(422, "Invalid", "y"), stored={"code": 200, "body": {"spec": {"a": 1}}}))]
    accepted = [("patch", {"code": 200, "body": {"spec": {"a": 2}}, "stored": {"code": 200, "body": {"spec": {"a": 2}}}})]
    stored_changed = [("patch", dict(status(422, "Invalid", "y"), stored={"code": 200, "body": {"spec": {"a": 2}}}))]
    assert [o.result for o in compare_case("dev/vi/patch-invalid", real, same_but_words, rows, REWRITES)] == ["listed"]
    for sandbox in (accepted, stored_changed):
        outcome, = compare_case("dev/vi/patch-invalid", real, sandbox, rows, REWRITES)
        assert outcome.result == "unlisted", sandbox
        assert "beyond the listed fields" in outcome.detail


def test_an_exception_is_an_error_even_when_both_sides_raise_the_same() -> None:
    steps = [("create", {"code": 201}), ("exception", "KeyError: 'metadata'")]
    outcomes = compare_case("dev/vi/c", steps, list(steps), [], REWRITES)
    # one error for each side that raised: the case's later steps compared nothing
    assert [o.result for o in outcomes] == ["same", "error", "error"]


def test_a_step_on_one_side_only_is_an_error() -> None:
    outcomes = compare_case("dev/vi/c", [("a", 1), ("b", 2)], [("a", 1)], [], REWRITES)
    assert [(o.step, o.result) for o in outcomes] == [("a", "same"), ("b", "error")]


def test_an_unlisted_difference_names_the_path_and_both_values() -> None:
    outcome, = compare_case("dev/vi/c", [("get", {"code": 200, "body": {"spec": {"x": 1}}})],
                            [("get", {"code": 200, "body": {"spec": {"x": 2}}})], [], REWRITES)
    assert outcome.result == "unlisted"
    assert outcome.detail.startswith("body.spec.x: real=1 sandbox=2")


def test_reference_wording_is_rewritten_before_comparing() -> None:
    real = [("create", status(422, "Invalid", "spec: Invalid value: null: some rules were not checked"))]
    sandbox = [("create", status(422, "Invalid", 'spec: Invalid value: "null": some rules were not checked'))]
    assert [o.result for o in compare_case("dev/vi/c", real, sandbox, [], REWRITES)] == ["same"]


def test_the_write_path_of_a_create_is_its_object() -> None:
    base = "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/n/virtualimages"
    assert object_path_of(base, {"metadata": {"name": "a"}}, None) == base + "/a"
    assert object_path_of(base + "/a/status", None, None) == base + "/a"
    assert object_path_of(base, {"metadata": {"generateName": "g-"}}, {"kind": "VirtualImage",
                                                                       "metadata": {"name": "g-x"}}) == base + "/g-x"
    assert object_path_of(base, None, {"kind": "Status"}) is None


def test_versions_and_times_inside_messages_are_tokens_too() -> None:
    n = Normaliser()
    n.obj({"metadata": {"resourceVersion": "26"}})
    quoted = 'Invalid value: "{\\"metadata\\":{\\"resourceVersion\\":\\"26\\",\\"time\\":\\"2026-12-07T14:07:13Z\\"}}"'
    assert n.text(quoted) == 'Invalid value: "{\\"metadata\\":{\\"resourceVersion\\":\\"<rv1>\\",\\"time\\":\\"<time>\\"}}"'
    assert n.text("the ResourceVersion in the precondition (3) does not match the ResourceVersion in record (26)") \
        == "the ResourceVersion in the precondition (<rv2>) does not match the ResourceVersion in record (<rv1>)"


def test_key_order_of_a_quoted_object_and_of_managed_fields_does_not_count() -> None:
    a = Normaliser().text('patch: Invalid value: "{\\"b\\":1,\\"a\\":{\\"y\\":2,\\"x\\":3}}": strict decoding error')
    b = Normaliser().text('patch: Invalid value: "{\\"a\\":{\\"x\\":3,\\"y\\":2},\\"b\\":1}": strict decoding error')
    assert a == b
    assert Normaliser().text('Invalid value: "{\\"a\\":1}"') != Normaliser().text('Invalid value: "{\\"a\\":2}"')
    one = {"managedFields": [{"manager": "b"}, {"manager": "a"}]}
    other = {"managedFields": [{"manager": "a"}, {"manager": "b"}]}
    assert Normaliser().obj(one) == Normaliser().obj(other)
    assert Normaliser().obj(one) != Normaliser().obj({"managedFields": [{"manager": "a"}]})
