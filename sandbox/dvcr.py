"""DVCR and the user registry: config for the real `docker-registry`, and an OCI client.

The platform stores each image as a one-layer image (an uncompressed tar holding
`disk/<file>` with the original bytes) tagged with the object's UID. This client
speaks the distribution HTTP API with `requests` so that what lands in the registry
is exactly what `skopeo inspect` or any other OCI tool would see.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests

MANIFEST_OCI = "application/vnd.oci.image.manifest.v1+json"
MANIFEST_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_OCI = "application/vnd.oci.image.index.v1+json"
LIST_DOCKER = "application/vnd.docker.distribution.manifest.list.v2+json"
CONFIG_OCI = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
_ACCEPT = ", ".join([MANIFEST_OCI, MANIFEST_DOCKER, INDEX_OCI, LIST_DOCKER])
_CHUNK = 1 << 20


class RegistryError(Exception):
    """A registry call failed; str() is safe to show (no credentials)."""


class NoDiskFile(RegistryError):
    """The image has no regular file under disk/."""


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry (the only hash docker-registry accepts); cost 4, since the registry
    checks it on every request and this is a loopback sandbox, not a vault."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as _crypt

        return f"{user}:{_crypt.crypt(password, _crypt.mksalt(_crypt.METHOD_BLOWFISH, rounds=16))}"


def registry_config(root: Path, port: int, cert: Path, key: Path, htpasswd: Path | None = None) -> str:
    """docker-registry YAML (JSON is valid YAML): filesystem storage, deletes on, TLS, loopback."""
    cfg: dict = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root)},
            "delete": {"enabled": True},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": {
            "addr": f"127.0.0.1:{port}",
            "secret": hashlib.sha256(str(root).encode()).hexdigest(),
            "tls": {"certificate": str(cert), "key": str(key)},
        },
    }
    if htpasswd is not None:
        cfg["auth"] = {"htpasswd": {"realm": "sandbox-registry", "path": str(htpasswd)}}
    return json.dumps(cfg, indent=2)


@dataclass(frozen=True)
class ImageRef:
    host: str
    repo: str
    ref: str  # tag or digest

    @classmethod
    def parse(cls, image: str) -> "ImageRef":
        """'host:port/path[:tag|@digest]' (the registry host is mandatory here)."""
        host, _, rest = image.partition("/")
        if not rest:
            raise RegistryError(f"invalid image reference {image!r}")
        if "@" in rest:
            repo, ref = rest.split("@", 1)
        elif ":" in rest.rsplit("/", 1)[-1]:
            repo, ref = rest.rsplit(":", 1)
        else:
            repo, ref = rest, "latest"
        return cls(host, repo, ref)

    def __str__(self) -> str:
        sep = "@" if self.ref.startswith("sha256:") else ":"
        return f"{self.host}/{self.repo}{sep}{self.ref}"


class Registry:
    """A client for one registry host, trusting exactly the given CA (never the environment)."""

    def __init__(self, host: str, verify: str | bool, auth: tuple[str, str] | None = None, timeout: float = 30):
        self.host = host
        self.base = f"https://{host}/v2"
        self.verify = verify
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False
        if auth:
            self.session.auth = auth

    def _req(self, method: str, url: str, **kw) -> requests.Response:
        kw.setdefault("timeout", self.timeout)
        try:
            return self.session.request(method, url, verify=self.verify, **kw)
        except requests.RequestException as exc:
            raise RegistryError(f"{method} {self.host}: {exc.__class__.__name__}") from exc

    def _check(self, resp: requests.Response, what: str) -> requests.Response:
        if resp.status_code >= 300:
            raise RegistryError(f"{what}: {resp.status_code} {resp.reason}")
        return resp

    # -- reading -------------------------------------------------------------
    def manifest(self, repo: str, ref: str) -> dict:
        """The image manifest; an index/list is resolved to its first (linux/amd64 first) entry."""
        resp = self._check(self._req("GET", f"{self.base}/{repo}/manifests/{ref}", headers={"Accept": _ACCEPT}),
                           f"manifest {repo}:{ref}")
        doc = resp.json()
        if doc.get("mediaType") in (INDEX_OCI, LIST_DOCKER) or "manifests" in doc:
            entries = doc.get("manifests") or []
            if not entries:
                raise RegistryError(f"manifest {repo}:{ref}: empty index")
            entries.sort(key=lambda m: (m.get("platform") or {}).get("architecture") != "amd64")
            return self.manifest(repo, entries[0]["digest"])
        return doc

    def exists(self, repo: str, ref: str) -> bool:
        resp = self._req("HEAD", f"{self.base}/{repo}/manifests/{ref}", headers={"Accept": _ACCEPT})
        if resp.status_code == 404:
            return False
        self._check(resp, f"manifest {repo}:{ref}")
        return True

    def fetch_blob(self, repo: str, digest: str, dest: Path, on_chunk: Callable[[int], None] | None = None) -> None:
        with self._req("GET", f"{self.base}/{repo}/blobs/{digest}", stream=True) as resp:
            self._check(resp, f"blob {digest[:19]}")
            h = hashlib.sha256()
            with open(dest, "wb") as f:
                for chunk in resp.iter_content(_CHUNK):
                    f.write(chunk)
                    h.update(chunk)
                    if on_chunk:
                        on_chunk(len(chunk))
        if digest.startswith("sha256:") and h.hexdigest() != digest[7:]:
            raise RegistryError(f"blob {digest[:19]}: digest mismatch")

    def extract_disk(self, repo: str, ref: str, workdir: Path,
                     on_chunk: Callable[[int], None] | None = None) -> tuple[Path, str]:
        """Pull the image and return (path, name) of the first regular file under disk/."""
        manifest = self.manifest(repo, ref)
        for layer in manifest.get("layers", []):
            blob = workdir / "layer.blob"
            self.fetch_blob(repo, layer["digest"], blob, on_chunk)
            try:
                with tarfile.open(blob, "r:*") as tar:
                    for member in tar:
                        name = member.name.lstrip("./").lstrip("/")
                        if member.isreg() and name.startswith("disk/") and len(name) > 5:
                            out = workdir / "disk.data"
                            src = tar.extractfile(member)
                            assert src is not None
                            with open(out, "wb") as f:
                                while chunk := src.read(_CHUNK):
                                    f.write(chunk)
                            return out, name[5:].rsplit("/", 1)[-1]
            except tarfile.TarError as exc:
                raise RegistryError(f"layer {layer['digest'][:19]}: {exc}") from exc
            finally:
                blob.unlink(missing_ok=True)
        raise NoDiskFile("no files found in directory disk")

    # -- writing -------------------------------------------------------------
    def _push_blob(self, repo: str, data: Path | bytes) -> tuple[str, int]:
        if isinstance(data, bytes):
            digest, size, body = "sha256:" + hashlib.sha256(data).hexdigest(), len(data), data
        else:
            h = hashlib.sha256()
            with open(data, "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
            digest, size, body = "sha256:" + h.hexdigest(), data.stat().st_size, None
        if self._req("HEAD", f"{self.base}/{repo}/blobs/{digest}").status_code == 200:
            return digest, size
        resp = self._check(self._req("POST", f"{self.base}/{repo}/blobs/uploads/"), "start upload")
        location = self._absolute(resp.headers["Location"])
        sep = "&" if "?" in location else "?"
        url = f"{location}{sep}digest={digest}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        if body is None:
            with open(data, "rb") as f:  # type: ignore[arg-type]
                self._check(self._req("PUT", url, data=f, headers=headers), "upload blob")
        else:
            self._check(self._req("PUT", url, data=body, headers=headers), "upload blob")
        return digest, size

    def _push_stream(self, repo: str, layer: "TarLayer") -> tuple[str, int]:
        """Stream a layer in one pass (POST, PATCH the bytes, PUT the digest): no temp file, one hash."""
        resp = self._check(self._req("POST", f"{self.base}/{repo}/blobs/uploads/"), "start upload")
        resp = self._check(self._req("PATCH", self._absolute(resp.headers["Location"]), data=layer,
                                     headers={"Content-Type": "application/octet-stream"}), "upload blob")
        digest = layer.digest()
        location = self._absolute(resp.headers["Location"])
        sep = "&" if "?" in location else "?"
        self._check(self._req("PUT", f"{location}{sep}digest={digest}"), "commit blob")
        return digest, layer.size

    def _absolute(self, location: str) -> str:
        return f"https://{self.host}{location}" if location.startswith("/") else location

    def push_disk(self, repo: str, tag: str, file: Path, name: str, workdir: Path) -> str:
        """Store file as the platform does: one uncompressed tar layer with disk/<name>. Returns the manifest digest."""
        return self.push_files(repo, tag, {f"disk/{name}": file}, workdir, compress=False)

    def push_files(self, repo: str, tag: str, files: dict[str, Path], workdir: Path, compress: bool = False) -> str:
        """Push a one-layer image holding files at the given paths (gzip layer when compress)."""
        if compress:
            diff_id, (layer_digest, layer_size) = self._push_gzip_layer(repo, files, workdir)
            media = LAYER_TAR + "+gzip"
        else:
            layer_digest, layer_size = self._push_stream(repo, TarLayer(files))
            diff_id, media = layer_digest, LAYER_TAR
        config = json.dumps({
            "architecture": "amd64", "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }, sort_keys=True).encode()
        config_digest, config_size = self._push_blob(repo, config)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": MANIFEST_OCI,
            "config": {"mediaType": CONFIG_OCI, "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": media, "digest": layer_digest, "size": layer_size}],
        }, sort_keys=True).encode()
        self._check(self._req("PUT", f"{self.base}/{repo}/manifests/{tag}", data=manifest,
                              headers={"Content-Type": MANIFEST_OCI}), "put manifest")
        return "sha256:" + hashlib.sha256(manifest).hexdigest()

    def _push_gzip_layer(self, repo: str, files: dict[str, Path], workdir: Path) -> tuple[str, tuple[str, int]]:
        """(diff_id, (digest, size)) of a gzip layer (test fixtures and seeds only: registries users fill)."""
        import gzip

        tar = TarLayer(files)
        blob = workdir / "layer.tar.gz"
        try:
            with open(blob, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fout:
                for chunk in tar:
                    fout.write(chunk)
            return tar.digest(), self._push_blob(repo, blob)
        finally:
            blob.unlink(missing_ok=True)

    def delete(self, repo: str, ref: str) -> bool:
        """Delete a manifest (what garbage collection would eventually do); False when absent."""
        resp = self._req("HEAD", f"{self.base}/{repo}/manifests/{ref}", headers={"Accept": _ACCEPT})
        if resp.status_code == 404:
            return False
        digest = self._check(resp, "manifest").headers["Docker-Content-Digest"]
        self._check(self._req("DELETE", f"{self.base}/{repo}/manifests/{digest}"), "delete manifest")
        return True


class TarLayer:
    """An uncompressed tar of files, produced while it is read and hashed on the way.

    The bytes are those `tarfile` writes in PAX format (directories first, root-owned, mtime 0),
    so a registry sees a normal layer; the size is known up front for Content-Length.
    """

    def __init__(self, files: dict[str, Path]) -> None:
        self._parts: list[bytes | Path] = []
        body = 0
        for d in sorted({str(Path(arc).parent) for arc in files} - {"."}):
            self._parts.append(self._header(d, tarfile.DIRTYPE, 0o755, 0))
            body += len(self._parts[-1])
        for arc, file in files.items():
            size = file.stat().st_size
            header, pad = self._header(arc, tarfile.REGTYPE, 0o644, size), -size % tarfile.BLOCKSIZE
            self._parts += [header, file, b"\0" * pad]
            body += len(header) + size + pad
        body += 2 * tarfile.BLOCKSIZE  # the end-of-archive blocks, then zeros up to a whole record
        self._parts.append(b"\0" * (2 * tarfile.BLOCKSIZE + (-body % tarfile.RECORDSIZE)))
        self.size = body + (-body % tarfile.RECORDSIZE)
        self._sha = hashlib.sha256()
        self._read = 0

    @staticmethod
    def _header(name: str, kind: bytes, mode: int, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.size, info.mtime = kind, mode, size, 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        for part in self._parts:
            if isinstance(part, bytes):
                yield self._count(part)
                continue
            with open(part, "rb") as f:
                while chunk := f.read(_CHUNK):
                    yield self._count(chunk)

    def _count(self, chunk: bytes) -> bytes:
        self._sha.update(chunk)
        self._read += len(chunk)
        return chunk

    def digest(self) -> str:
        """sha256 of everything read; only meaningful once the whole layer went through."""
        if self._read != self.size:
            raise RegistryError(f"layer: {self._read} of {self.size} bytes sent (a file changed while it was read)")
        return "sha256:" + self._sha.hexdigest()


def dockerconfig_auth(dockerconfigjson: bytes, host: str) -> tuple[str, str] | None:
    """(user, password) for host from a kubernetes.io/dockerconfigjson payload."""
    import base64

    doc = json.loads(dockerconfigjson)
    for key, entry in (doc.get("auths") or {}).items():
        k = key.split("://", 1)[-1].rstrip("/")
        if k == host or k.split("/", 1)[0] == host:
            if entry.get("auth"):
                user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
                return user, pw
            if "username" in entry:
                return entry["username"], entry.get("password", "")
    return None


def temp_ca_file(pem: str, workdir: Path) -> str:
    """Write a PEM bundle for `verify=` (requests needs a path)."""
    fd, name = tempfile.mkstemp(prefix="ca-", suffix=".pem", dir=workdir)
    with io.open(fd, "w") as f:
        f.write(pem)
    return name
