#!/usr/bin/python3
"""Writes the fuzz targets' seed inputs into tests/fuzz/corpus/<target>/.

Run from anywhere: `python3 tests/fuzz/corpus/make_seeds.py`. The seeds are
small valid inputs (a fuzzer mutates its way outward from them); the files are
committed so a fuzz run does not depend on this script, which is kept to say
where they came from and to regenerate them.
"""
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def put(target, name, data):
    d = HERE / target
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, data, link in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.linkname = kind, 0o644, 1_700_000_000, link
            info.uid = info.gid = 1000 if name.startswith("home") else 0
            if data is not None:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
    return buf.getvalue()


D, F, S, H, C = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE
LOWER = tar([("etc", D, None, ""), ("etc/hosts", F, b"127.0.0.1 localhost\n", ""), ("etc/old", F, b"old", ""),
             ("opt/app", D, None, ""), ("opt/app/a", F, b"a", ""), ("bin/sh", S, None, "busybox"),
             ("bin/busybox", F, b"\x7fELF", ""), ("dev/null", C, None, "")])
UPPER = tar([("etc/.wh.old", F, b"", ""), ("opt/app/.wh..wh..opq", F, b"", ""), ("opt/app/c", F, b"c", ""),
             ("bin/ash", H, None, "bin/busybox"), ("home/user/" + "x" * 120, F, b"long", "")])
GNU = tar([("usr/share/" + "g" * 150, F, b"gnu long name", ""), ("l", S, None, "t" * 120)], tarfile.GNU_FORMAT)


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


def oci(layers):
    blobs, entries = {}, []
    for data in layers:
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        entries.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{digest}"})
    manifest = json.dumps({"schemaVersion": 2, "layers": entries}).encode()
    md = hashlib.sha256(manifest).hexdigest()
    blobs[md] = manifest
    index = json.dumps({"manifests": [{"digest": f"sha256:{md}",
                                       "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    out = [("oci-layout", F, b'{"imageLayoutVersion":"1.0.0"}', ""), ("index.json", F, index, "")]
    out += [(f"blobs/sha256/{d}", F, b, "") for d, b in blobs.items()]
    return tar(out, tarfile.USTAR_FORMAT)


def forever_certificate(key_pem):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    key = serialization.load_pem_private_key(key_pem, None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forever")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2024, 1, 1))
            .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def main():
    for d in HERE.iterdir():
        if d.is_dir():
            shutil.rmtree(d)
    # Whole tar archives.
    put("fuzz_image_archive", "pax_layers.tar", LOWER)
    put("fuzz_image_archive", "whiteouts.tar", UPPER)
    put("fuzz_image_archive", "gnu_long_names.tar", GNU)
    # The header-level target reads the first 512 bytes.
    put("fuzz_image_tar", "header.tar", LOWER[:1500])
    # Layer decoders.
    put("fuzz_image_decompress", "layer.tar.gz", gzip.compress(LOWER, mtime=0))
    put("fuzz_image_decompress", "two_members.gz", gzip.compress(b"a" * 100, mtime=0) + gzip.compress(b"b", mtime=0))
    put("fuzz_image_decompress", "layer.tar.zst", zstd(UPPER))
    put("fuzz_image_decompress", "plain.tar", UPPER[:2048])
    # OCI walker: a raw archive, and the harness's "@@@@" pieces (digests filled in by the harness).
    put("fuzz_image_oci", "raw_oci.tar", oci([gzip.compress(LOWER, mtime=0), UPPER]))
    index = b'{"manifests":[{"digest":"$M","platform":{"os":"linux","architecture":"amd64"}}]}'
    manifest = b'{"schemaVersion":2,"layers":[{"digest":"$0"},{"digest":"$1"},{"digest":"$2"}]}'
    put("fuzz_image_oci", "pieces_three_layers",
        b"@@@@".join([b"", index, manifest, gzip.compress(LOWER, mtime=0), UPPER, zstd(GNU)]))
    nested = b'{"manifests":[{"digest":"$M"}]}'
    put("fuzz_image_oci", "pieces_one_layer", b"@@@@".join([b"", nested, b'{"layers":[{"digest":"$0"}]}', LOWER]))
    docker = json.dumps([{"Config": "c.json", "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode()
    put("fuzz_image_oci", "docker_save.tar",
        tar([("l1/layer.tar", F, LOWER, ""), ("l2/layer.tar", F, UPPER, ""), ("manifest.json", F, docker, "")],
            tarfile.USTAR_FORMAT))
    # Inventory: the documented example, pieces in the harness's order.
    ex = REPO / "docs/examples/inventory"
    parts = [ex / "inventory.yaml", ex / "profiles/discovery.yaml", ex / "profiles/debian-ram.yaml",
             ex / "groups/control-plane.yaml", ex / "groups/rack1.yaml"]
    put("fuzz_inventory_loader", "docs_example", b"@@@@".join(p.read_bytes() for p in parts))
    # cluster.yaml
    put("fuzz_kube_cluster_spec", "kubeadm.yaml", """name: lab
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: k8s.lab.example:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs: [k8s.lab.example, 192.168.50.10]
etcd:
  members:
    - {name: cp1, ip: 192.168.50.11}
    - {name: cp2, ip: 192.168.50.12}
roles:
  control-plane:
    - hostname: cp1
    - mac: "52:54:00:00:00:02"
  worker:
    - labels: {pool: general, rack: r1}
registryMirrors:
  docker.io: [https://mirror.lab:5000]
pki:
  keyAlgorithm: ecdsa-p256
""")
    put("fuzz_kube_cluster_spec", "k3s.yaml", "name: small\ndistribution: k3s\ncontrolPlaneEndpoint: 10.0.0.5:6443\n"
        "roles:\n  control-plane:\n    - hostname: cp1\n  worker:\n    - labels: {}\n")
    # ramfleet.yaml
    put("fuzz_settings_serve", "full.yaml", """interface: br0
state: /var/lib/ramfleet
dhcp:
  mode: full
  subnets:
    - subnet: 10.9.0.0/24
      pools: [10.9.0.100-10.9.0.150]
      router: 10.9.0.1
      dns: [10.9.0.1, 10.9.0.2]
      lease_time: 2h
  reservations:
    - mac: 52:54:00:00:00:01
      ip: 10.9.0.10
      hostname: node1
tftp:
  roots: [assets, /srv/tftp]
http:
  port: 8080
""")
    put("fuzz_settings_serve", "proxy.yaml", "dhcp:\n  mode: proxy\nhttp:\n  enabled: false\n")
    # PEM: mode byte 0 = PEM text, 1 = DER certificate, 2 = DER private key.
    with tempfile.TemporaryDirectory() as t:
        t = Path(t)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", t / "k.pem", "-out", t / "c.pem", "-subj", "/CN=kubernetes", "-days", "3650"],
                       check=True, capture_output=True)
        # "No well-defined expiration" (RFC 5280 4.1.2.5): notAfter 99991231235959Z.
        (t / "forever.pem").write_bytes(forever_certificate((t / "k.pem").read_bytes()))
        der = lambda *a: subprocess.run(["openssl", *a, "-outform", "DER"], capture_output=True, check=True).stdout
        put("fuzz_kube_pem", "cert_and_key.pem", b"\0" + (t / "c.pem").read_bytes() + (t / "k.pem").read_bytes())
        put("fuzz_kube_pem", "cert.der", b"\1" + der("x509", "-in", t / "c.pem"))
        put("fuzz_kube_pem", "forever.der", b"\1" + der("x509", "-in", t / "forever.pem"))
        put("fuzz_kube_pem", "key.der", b"\2" + der("pkey", "-in", t / "k.pem"))
    # tokens.json
    put("fuzz_kube_tokens", "tokens.json", json.dumps({"tokens": [
        {"token": "abcdef.0123456789abcdef", "created": 1700000000, "expires": 1700086400, "description": "x"},
        {"token": "zyxwvu.0123456789abcdef", "created": 1700000000, "expires": 1800000000}]}, indent=2))


if __name__ == "__main__":
    main()
