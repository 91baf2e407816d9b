"""The sandbox's log filter: recorded secrets and anything shaped like a credential leave no trace in a line or a
traceback, and every record still gets through."""
from __future__ import annotations

import io
import logging

from sandbox.logsafe import FORMAT, Redactor

TOKEN, PASSWORD = "tok-Abc123_xyz-DEF", "registry-pw-42"
EXTERNAL = "https://127.0.0.1:44001/upload/" + "k" * 32
IN_CLUSTER = "http://127.0.0.1:39999/upload"


def _logger(stream: io.StringIO, secrets: list[str]) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redactor(lambda: secrets))
    logger = logging.getLogger("test.logsafe.%d" % id(stream))
    logger.propagate = False
    logger.addHandler(handler)
    return logger


def test_lines_and_tracebacks_lose_every_credential_and_keep_the_rest() -> None:
    stream = io.StringIO()
    log = _logger(stream, [TOKEN, PASSWORD, ""])
    log.warning("reconcile %s: token %s, password %s", "vi/ns/a", TOKEN, PASSWORD)
    log.warning("sending to %s and %s", EXTERNAL, IN_CLUSTER)
    log.warning("headers: Authorization: Bearer some.other-token; proxy Basic dXNlcjpwYXNz")
    log.warning("skopeo copy --src-creds robot:hunter2 docker://registry/img and https://robot:hunter2@host/x")
    try:
        raise ConnectionError("PUT %s failed for user with %s" % (EXTERNAL, PASSWORD))
    except ConnectionError:
        log.exception("import %s", "vi/ns/b")
    text = stream.getvalue()
    for secret in (TOKEN, PASSWORD, EXTERNAL, IN_CLUSTER, "k" * 32, "some.other-token", "dXNlcjpwYXNz", "hunter2"):
        assert secret not in text, secret
    assert "reconcile vi/ns/a: token <redacted>, password <redacted>" in text
    assert "sending to <upload URL> and <upload URL>" in text
    assert "Traceback" in text and "ConnectionError: PUT <upload URL> failed" in text and "import vi/ns/b" in text
    assert len([line for line in text.splitlines() if " WARNING " in line or " ERROR " in line]) == 5
