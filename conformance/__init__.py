"""The sandbox's API server side by side with the real API server for custom resources.

`make conformance` = `python -m conformance --binary "$(scripts/realapi/build.py)"`: `servers.py` starts
both (etcd + the real server with the platform's CRDs; an API-only sandbox of the same platform line),
`cases.py` holds the scripted request sequences (one per scenario and kind), `harness.py` runs one on one
server and normalises what is random by nature, `__main__.py` compares, prints the table and checks every
difference against the "Known deviations" list in sandbox/README.md.
"""
