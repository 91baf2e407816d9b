"""Pure pieces of the controller: checksums (incl. GOST R 34.11-2012 vectors), formats, status text."""
from __future__ import annotations

import gzip
import hashlib
import lzma
from pathlib import Path

import pytest

from sandbox.controller.imports.diskinfo import Checksums, human_size, inspect_file
from sandbox.controller.model.status import merge_conditions, progress_text, status_patch
from sandbox.seed import make_disk, make_iso

# GOST R 34.11-2012 (RFC 6986) example 1: M1 = "0123456789" * 6 + "012" (63 bytes).
GOST_M1 = b"012345678901234567890123456789012345678901234567890123456789012"
GOST_M1_512 = ("1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
               "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48")
GOST_M1_256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"


def test_streebog_matches_the_standard_test_vectors() -> None:
    sums = Checksums({"streebog512": GOST_M1_512, "streebog256": GOST_M1_256})
    sums.update(GOST_M1[:10])
    sums.update(GOST_M1[10:])
    assert sums.mismatch() is None


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256", "sha512", "streebog256", "streebog512"])
def test_checksum_mismatch_message_names_algorithm_expected_and_actual(algo: str) -> None:
    width = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128, "streebog256": 64, "streebog512": 128}[algo]
    wrong = "0" * width
    sums = Checksums({algo: wrong})
    sums.update(b"data")
    if algo.startswith("streebog"):
        import gostcrypto.gosthash as g
        actual = g.new(algo, data=b"data").hexdigest()
    else:
        actual = hashlib.new(algo, b"data").hexdigest()
    assert sums.mismatch() == f"{algo} sum mismatch: {wrong} != {actual}"
    ok = Checksums({algo: actual.upper()})
    ok.update(b"data")
    assert ok.mismatch() is None


def test_v1_10_compares_as_given_and_says_it_with_its_arguments_swapped() -> None:
    actual = hashlib.sha256(b"data").hexdigest()
    upper = Checksums({"sha256": actual.upper()}, verbatim=True)
    upper.update(b"data")
    assert upper.mismatch() == f"{actual} sum mismatch: sha256 != {actual.upper()}"
    wrong = Checksums({"sha256": "0" * 64, "md5": "1" * 32}, verbatim=True)
    wrong.update(b"data")
    assert wrong.mismatch() == f"{actual} sum mismatch: sha256 != {'0' * 64}"    # sha256 first


def test_every_given_checksum_must_match() -> None:
    good = hashlib.sha256(b"x").hexdigest()
    sums = Checksums({"sha256": good, "md5": "0" * 32})
    sums.update(b"x")
    assert sums.mismatch().startswith("md5 sum mismatch")


@pytest.mark.parametrize("n,text", [(0, "0B"), (512, "512B"), (1024, "1Ki"), (1536, "1.5Ki"),
                                    (2 * 1024**3, "2Gi"), (int(285.3 * 1024**2), "285.3Mi")])
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


def test_progress_text_is_one_decimal_and_never_100_before_ready() -> None:
    assert progress_text(0) == "0%"
    assert progress_text(0.321) == "32.1%"
    assert progress_text(1.0) == "99.9%"
    assert progress_text(0.99999) == "99.9%"


def test_status_patch_nulls_removed_fields_and_ignores_transition_times() -> None:
    old = {"phase": "Provisioning", "downloadSpeed": {"avg": "1Mi/s", "current": "2Mi/s"},
           "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "t1"}]}
    new = {"phase": "Ready", "downloadSpeed": {"avg": "1Mi/s"},
           "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "t2"}]}
    patch = status_patch(old, new)
    assert patch["downloadSpeed"] == {"avg": "1Mi/s", "current": None}
    assert status_patch(old, {**old, "conditions": new["conditions"]}) is None
    merged = merge_conditions(old["conditions"], [{"type": "Ready", "status": "False"}])
    assert merged[0]["lastTransitionTime"] == "t1"


@pytest.mark.parametrize("fmt", ["qcow2", "raw", "vmdk", "vdi", "vpc", "vhdx"])
def test_inspect_reports_qemu_format_and_virtual_size(tmp_path: Path, fmt: str) -> None:
    disk = make_disk(tmp_path / f"d.{fmt}", fmt, 2 * 1024 * 1024)
    info = inspect_file(disk, tmp_path)
    assert info.format == fmt
    assert info.virtual_size >= 2 * 1024 * 1024
    assert info.stored_bytes == disk.stat().st_size
    assert not info.cdrom


def test_inspect_compressed_keeps_stored_size_and_detects_inner_format(tmp_path: Path) -> None:
    disk = make_disk(tmp_path / "d.qcow2", "qcow2", 2 * 1024 * 1024)
    gz = tmp_path / "d.qcow2.gz"
    gz.write_bytes(gzip.compress(disk.read_bytes()))
    xz = tmp_path / "d.raw.xz"
    xz.write_bytes(lzma.compress(b"\1" * 70000))
    g, x = inspect_file(gz, tmp_path), inspect_file(xz, tmp_path)
    assert (g.format, g.virtual_size, g.stored_bytes) == ("qcow2", 2 * 1024 * 1024, gz.stat().st_size)
    assert (x.format, x.virtual_size, x.stored_bytes) == ("raw", 70000, xz.stat().st_size)


def test_iso_detected_by_signature_and_html_is_raw(tmp_path: Path) -> None:
    iso = inspect_file(make_iso(tmp_path / "cd.iso"), tmp_path)
    assert iso.format == "iso" and iso.cdrom
    page = tmp_path / "index.html"
    page.write_text("<html><body>not a disk</body></html>")
    assert inspect_file(page, tmp_path).format == "raw"


@pytest.mark.parametrize("sizes", [(0,), (1,), (511, 512, 513), (10240 * 3 + 7,)])
def test_streamed_layer_is_byte_for_byte_the_tar_tarfile_writes(tmp_path: Path, sizes: tuple[int, ...]) -> None:
    """DVCR layers are streamed without a temp file; any drift from a real tar would break pulls."""
    import io
    import tarfile

    from sandbox.dvcr import TarLayer

    files = {}
    for i, size in enumerate(sizes):
        path = tmp_path / f"f{i}"
        path.write_bytes(bytes((i + n) % 251 for n in range(size)))
        files[f"disk/f{i}.img" if i == 0 else f"extra/sub/f{i}"] = path
    expected = io.BytesIO()
    with tarfile.open(fileobj=expected, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted({str(Path(a).parent) for a in files}):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for arc, path in files.items():
            info = tar.gettarinfo(str(path), arcname=arc)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime, info.mode = 0, 0o644
            with open(path, "rb") as f:
                tar.addfile(info, f)
    layer = TarLayer(files)
    streamed = b"".join(layer)
    assert len(layer) == len(streamed)
    assert streamed == expected.getvalue()
    assert layer.digest() == "sha256:" + hashlib.sha256(streamed).hexdigest()


def test_streamed_layer_refuses_a_digest_when_a_file_changed_under_it(tmp_path: Path) -> None:
    from sandbox.dvcr import RegistryError, TarLayer

    path = tmp_path / "disk.img"
    path.write_bytes(b"x" * 4096)
    layer = TarLayer({"disk/disk.img": path})
    path.write_bytes(b"x" * 100)
    b"".join(layer)
    with pytest.raises(RegistryError, match="bytes sent"):
        layer.digest()
