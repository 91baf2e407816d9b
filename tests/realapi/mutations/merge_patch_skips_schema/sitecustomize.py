"""A deliberately broken sandbox for tests/realapi/test_conformance_mutation.py: merge and JSON patches skip
admission (schema, CEL, pruning), so an invalid patch is stored. Loaded only when this folder is on
PYTHONPATH (Python imports `sitecustomize` at start-up), so the sandbox's code stays as it is."""
import sandbox.api.admission_bridge as _bridge

_admit = _bridge.admit


def _broken_admit(r, operation, obj, old, subresource, ctx, lookup=None, listing=None):  # type: ignore[no-untyped-def]
    if operation == "UPDATE" and ctx.write == "patch" and subresource is None:
        return obj
    return _admit(r, operation, obj, old, subresource, ctx, lookup, listing)


_bridge.admit = _broken_admit
