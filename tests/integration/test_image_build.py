"""`ramfleet image build` with the real binary and real unpackers.

Identical input gives identical bytes (and the same id/path on stdout); the
archive is a newc cpio that GNU cpio and the zstd/gzip tools read; an OCI
image archive made by Python's tarfile has its layers applied in order with
whiteouts. Nothing here needs the network.
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from netlab import RAMFLEET_BIN


def build(src, assets, *extra):
    r = subprocess.run([RAMFLEET_BIN, "image", "build", "--from", str(src), "--assets", str(assets), *extra],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    image_id, path = r.stdout.split()
    return image_id, Path(assets) / path


def unpack(image, dest, decompress):
    dest.mkdir()
    data = subprocess.run(decompress + [str(image)], capture_output=True, check=True, timeout=60).stdout
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=data, capture_output=True, check=True).stdout.decode()
    subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], input=data, cwd=dest, check=True)
    return listing.split()


@pytest.fixture
def rootfs(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("node\n")
    (root / "bin").mkdir()
    (root / "bin/tool").write_bytes(os.urandom(200_000))
    (root / "bin/tool").chmod(0o755)
    (root / "bin/sh").symlink_to("tool")
    (root / "var/empty").mkdir(parents=True)
    return root


def test_same_directory_twice_gives_identical_bytes(rootfs, tmp_path):
    id1, img1 = build(rootfs, tmp_path / "a")
    id2, img2 = build(rootfs, tmp_path / "b")
    assert id1 == id2
    assert img1.read_bytes() == img2.read_bytes()
    assert hashlib.sha256(img1.read_bytes()).hexdigest() == id1  # content-addressed
    assert img1 == tmp_path / "a" / "images" / id1 / "rootfs.cpio.zst"
    manifest = json.loads((img1.parent / "manifest.json").read_text())
    assert manifest["sha256"] == id1 and manifest["source"]["kind"] == "directory"
    # Nothing half-written or temporary is left beside the image.
    assert sorted(p.name for p in (tmp_path / "a" / "images").iterdir()) == [id1]


def test_image_is_a_cpio_that_gnu_cpio_unpacks(rootfs, tmp_path):
    _, img = build(rootfs, tmp_path / "assets")
    names = unpack(img, tmp_path / "out", ["zstd", "-dc"])
    assert names == sorted(names)  # sorted entries: parents before children
    assert (tmp_path / "out/bin/tool").read_bytes() == (rootfs / "bin/tool").read_bytes()
    assert os.readlink(tmp_path / "out/bin/sh") == "tool"
    assert (tmp_path / "out/bin/tool").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out/var/empty").is_dir()


def test_gzip_fallback_and_fixed_mtime(rootfs, tmp_path):
    _, img = build(rootfs, tmp_path / "assets", "--compression", "gzip", "--mtime", "86400")
    assert img.name == "rootfs.cpio.gz"
    unpack(img, tmp_path / "out", ["gzip", "-dc"])
    assert (tmp_path / "out/etc/hostname").stat().st_mtime == 86400
    # Touching the source changes nothing when the mtime is fixed.
    os.utime(rootfs / "etc/hostname", (1, 1))
    _, img2 = build(rootfs, tmp_path / "assets2", "--compression", "gzip", "--mtime", "86400")
    assert img.read_bytes() == img2.read_bytes()


def add(tar, name, data=None, kind=tarfile.REGTYPE, mode=0o644, uid=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.mtime, info.linkname = kind, mode, uid, uid, 1_700_000_000, linkname
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            add(t, *e[:2], **(e[2] if len(e) > 2 else {}))
    return buf.getvalue()


def oci_archive(path):
    lower = layer([("etc", None, {"kind": tarfile.DIRTYPE, "mode": 0o755}), ("etc/old.conf", b"old"),
                   ("etc/keep.conf", b"keep"), ("opt/app", None, {"kind": tarfile.DIRTYPE}),
                   ("opt/app/a", b"a"), ("opt/app/b", b"b")])
    upper = layer([("etc/.wh.old.conf", b""), ("opt/app/.wh..wh..opq", b""), ("opt/app/c", b"c"),
                   ("home/user/file", b"mine", {"uid": 1000})])
    blobs = {}
    layers = []
    for data in (gzip.compress(lower, mtime=0), upper):
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": f"sha256:{digest}",
                       "size": len(data)})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {}, "layers": layers}).encode()
    mdigest = hashlib.sha256(manifest).hexdigest()
    blobs[mdigest] = manifest
    index = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{mdigest}",
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    with tarfile.open(path, "w") as t:
        add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(t, "index.json", index)
        for digest, data in blobs.items():
            add(t, f"blobs/sha256/{digest}", data)


def test_oci_archive_whiteouts_applied(tmp_path):
    oci_archive(tmp_path / "image.tar")
    id1, img = build(tmp_path / "image.tar", tmp_path / "assets")
    id2, _ = build(tmp_path / "image.tar", tmp_path / "assets2")
    assert id1 == id2
    names = unpack(img, tmp_path / "out", ["zstd", "-dc"])
    assert "etc/keep.conf" in names and "etc/old.conf" not in names
    assert "opt/app/c" in names and "opt/app/a" not in names and "opt/app/b" not in names
    assert not any(".wh." in n for n in names)
    listing = subprocess.run(["sh", "-c", f"zstd -dc {img} | cpio -tv --numeric-uid-gid --quiet"],
                             capture_output=True, text=True, check=True).stdout
    line = next(l for l in listing.splitlines() if l.endswith("home/user/file"))
    assert line.split()[2] == "1000", line  # numeric owner kept
    manifest = json.loads((img.parent / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "oci-layout" and manifest["source"]["whiteouts"] == 2


def test_bad_input_is_a_clear_error(tmp_path):
    (tmp_path / "junk.tar").write_bytes(b"this is not a tar file" * 50)
    r = subprocess.run([RAMFLEET_BIN, "image", "build", "--from", str(tmp_path / "junk.tar"), "--assets",
                        str(tmp_path / "assets")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "junk.tar" in r.stderr and "malformed tar" in r.stderr, r.stderr
    assert not any((tmp_path / "assets" / "images").iterdir())  # nothing published


# --- hostile archives (issue 10): a clear error, fast, never a hang ----------------------------------

def build_fails(src, assets, *extra, timeout=10):
    """Runs a build that must fail; a hang (the bug) is a TimeoutExpired, which fails the test and kills
    the process before it can eat the machine's memory."""
    r = subprocess.run([RAMFLEET_BIN, "image", "build", "--from", str(src), "--assets", str(assets), *extra],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert not any((Path(assets) / "images").iterdir())  # nothing published, no scratch left
    return r.stderr


def tar_header(name, size_field, typeflag=b"0"):
    """A ustar header with the 12-byte size field given raw (octal or base-256) and a valid checksum."""
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field
    h[136:148] = b"00000000000\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def crafted_tar():
    """The issue's 1.5 KiB tar: a base-256 size of 2**64 - 512, which rounded up to a block wrapped to
    'go back 512 bytes', so the reader re-read its own header for ever."""
    size = b"\x80" + (2**64 - 512).to_bytes(11, "big")
    return tar_header("evil", size) + b"\0" * 1024


def oci_with_layers(path, layer_blobs, index=None):
    blobs, layers = {}, []
    for data in layer_blobs:
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{digest}",
                       "size": len(data)})
    manifest = json.dumps({"schemaVersion": 2, "layers": layers}).encode()
    mdigest = hashlib.sha256(manifest).hexdigest()
    blobs[mdigest] = manifest
    if index is None:
        index = json.dumps({"schemaVersion": 2, "manifests": [{"digest": f"sha256:{mdigest}"}]}).encode()
    with tarfile.open(path, "w") as t:
        add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(t, "index.json", index)
        for digest, data in blobs.items():
            add(t, f"blobs/sha256/{digest}", data)


def test_crafted_tar_fails_fast_with_an_error(tmp_path):
    (tmp_path / "crafted.tar").write_bytes(crafted_tar())
    assert (tmp_path / "crafted.tar").stat().st_size == 1536
    err = build_fails(tmp_path / "crafted.tar", tmp_path / "assets")
    assert "crafted.tar: malformed tar at byte 0 (entry 'evil'): size 18446744073709551104 runs past the end" in err, err


def test_crafted_tar_inside_a_layer_fails_fast_naming_the_layer(tmp_path):
    layer = gzip.compress(crafted_tar(), mtime=0)
    oci_with_layers(tmp_path / "img.tar", [layer])
    err = build_fails(tmp_path / "img.tar", tmp_path / "assets")
    assert f"img.tar: layer sha256:{hashlib.sha256(layer).hexdigest()}: malformed tar" in err, err
    assert "(entry 'evil')" in err, err


def test_gzip_bomb_layer_stops_at_max_layer_size(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        add(t, "zeros", b"\0" * (32 << 20))
    bomb = gzip.compress(buf.getvalue(), mtime=0)
    assert len(bomb) < 100_000
    oci_with_layers(tmp_path / "img.tar", [bomb])
    err = build_fails(tmp_path / "img.tar", tmp_path / "assets", "--max-layer-size", "1M")
    assert "decompressed size exceeds the per-layer limit (--max-layer-size) of 1048576 bytes" in err, err
    # The default cap lets it through: the flag is what stopped it.
    build(tmp_path / "img.tar", tmp_path / "assets2")


def test_path_traversal_and_oversized_manifest_are_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        add(t, "../../etc/cron.d/evil", b"* * * * * root sh\n")
    oci_with_layers(tmp_path / "img.tar", [buf.getvalue()])
    err = build_fails(tmp_path / "img.tar", tmp_path / "assets")
    assert "entry escapes the root: ../../etc/cron.d/evil" in err, err

    oci_with_layers(tmp_path / "big.tar", [], index=b'{"manifests": [], "pad": "' + b"x" * 5000 + b'"}')
    err = build_fails(tmp_path / "big.tar", tmp_path / "assets", "--max-json-size", "4K")
    assert "index.json is 5028 bytes, more than the limit of 4096 bytes" in err and "--max-json-size" in err, err
