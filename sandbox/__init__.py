"""A local stand-in for a Deckhouse Virtualization cluster (API server, image controller, DVCR).

Start it with `python -m sandbox up` (see sandbox/README.md); from Python use `sandbox.handle.Sandbox`.
"""
