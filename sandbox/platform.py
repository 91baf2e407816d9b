"""The platform lines a sandbox can serve: the development line and the released line v1.10.

A leaf (imports nothing of the sandbox). `up --platform LINE` records the line in `sandbox.json`
(`platform`); the API server serves that line's schemas, the controller that line's behaviour,
`status`, `GET /sandbox/info` and the env file (`DVP_SANDBOX_PLATFORM`) report it.

What differs (from the platform's CRDs and code, tag v1.10.2 against the development line):
- v1.10 knows only md5 and sha256 in `http.checksum`, has no `dataSource.upload.checksum` and
  its source CEL rules do not mention `upload`; its VirtualMachine has no `gpus`,
  `networks[].ipAddressName`, `osType: Legacy`, `coreFraction: Auto` nor the Legacy rules;
- v1.10 has no `Terminating` condition while an image is deleted, and no upload deadline
  (`WaitForUserUploadTimeout`).
"""
from __future__ import annotations

from dataclasses import dataclass

DEV = "dev"
V1_10 = "v1.10"
DEFAULT = DEV
ENV = "DVP_SANDBOX_PLATFORM"


@dataclass(frozen=True)
class Line:
    name: str          # what `--platform` takes
    release: str       # the platform version it stands for
    source: str        # where its facts come from (deckhouse/virtualization)
    description: str

    def info(self) -> dict[str, str]:
        return {"platform": self.name, "release": self.release, "source": self.source,
                "description": self.description}


LINES: dict[str, Line] = {
    DEV: Line(DEV, "main", "deckhouse/virtualization@main (commit cf3a9e6c)",
              "development line (newest CRDs and controller)"),
    V1_10: Line(V1_10, "v1.10.2", "deckhouse/virtualization@v1.10.2 (commit 504dba4f)",
                "released line v1.10 (what users run today)"),
}


def line(name: str | None) -> Line:
    """The line called `name` (None or "" = the default); ValueError names the known ones."""
    key = name or DEFAULT
    try:
        return LINES[key]
    except KeyError:
        raise ValueError(f"unknown platform line {key!r}; known: {', '.join(LINES)}") from None
