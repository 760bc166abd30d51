#!/usr/bin/env python3
"""Container images for the appbuilder tests, written here from local files
(never downloaded): layer tarballs, OCI image layouts and `docker save`
tarballs of the older shape. Used by appbuilder.sh; not a test itself.

  oci_image.py layer-dir ROOTFS OUT [--gzip]   tar of a directory (hard links kept)
  oci_image.py layer-upper OUT                  the upper layer of the test image
  oci_image.py layer-bad KIND OUT               dotdot | absolute | symlink | hardlink
  oci_image.py oci OUT_DIR CONFIG LAYER...      OCI image layout
  oci_image.py docker OUT.tar CONFIG LAYER...   docker save (manifest.json) tarball
CONFIG is the JSON of the image config's "config" (Entrypoint, Cmd, Env, ...).
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MTIME = 1600000000


def entry(tar, name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", mtime=MTIME,
          pax=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = mtime
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    if pax:
        info.pax_headers = pax
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def write_tar(out, build, compress=False):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    data = buffer.getvalue()
    if compress:
        data = gzip.compress(data, mtime=0)
    with open(out, "wb") as f:
        f.write(data)


def layer_dir(rootfs, out, compress):
    def build(tar):
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name)
    write_tar(out, build, compress)


def layer_upper(out):
    def build(tar):
        entry(tar, "etc/.wh.gone")                      # whiteout of a lower file
        entry(tar, "opq", tarfile.DIRTYPE, mode=0o755)
        entry(tar, "opq/.wh..wh..opq")                  # opaque: hides opq/old, opq/sub
        entry(tar, "opq/new", data=b"new\n")
        entry(tar, "data/link2", tarfile.LNKTYPE, link="data/file")  # to a lower file
        entry(tar, "data/sym", tarfile.SYMTYPE, link="file", mode=0o777)
        entry(tar, "data/mode750", data=b"m\n", mode=0o750, mtime=1234567890)
        entry(tar, "data/xattr", data=b"x\n", pax={"SCHILY.xattr.user.test": "v"})
    write_tar(out, build)


def layer_bad(kind, out):
    def build(tar):
        entry(tar, "ok", data=b"fine\n")
        if kind == "dotdot":
            entry(tar, "../appbuilder-escape", data=b"evil\n")
        elif kind == "absolute":
            entry(tar, "/tmp/appbuilder-escape", data=b"evil\n")
        elif kind == "symlink":
            entry(tar, "a/b/escape", tarfile.SYMTYPE, link="../../../../etc", mode=0o777)
        elif kind == "hardlink":
            entry(tar, "escape", tarfile.LNKTYPE, link="../../etc/passwd")
        elif kind == "through-symlink":
            entry(tar, "etc", tarfile.SYMTYPE, link="/tmp", mode=0o777)
            entry(tar, "etc/appbuilder-escape", data=b"evil\n")
    write_tar(out, build)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def image_config(config_path, layers):
    with open(config_path) as f:
        config = json.load(f)
    diff_ids = []
    for data in layers:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        diff_ids.append("sha256:" + sha256(raw))
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def write_oci(out, config_path, layer_paths):
    layers = [open(p, "rb").read() for p in layer_paths]
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def blob(data):
        with open(os.path.join(blobs, sha256(data)), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + sha256(data), "size": len(data)}

    config = image_config(config_path, layers)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(mediaType="application/vnd.oci.image.config.v1+json",
                               **blob(config)),
                "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar" +
                                ("+gzip" if d[:2] == b"\x1f\x8b" else ""), **blob(d))
                           for d in layers]}
    index = {"schemaVersion": 2, "manifests": [
        dict(mediaType="application/vnd.oci.image.manifest.v1+json",
             annotations={"org.opencontainers.image.ref.name": "latest"},
             **blob(json.dumps(manifest).encode()))]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def write_docker(out, config_path, layer_paths):
    layers = [open(p, "rb").read() for p in layer_paths]
    config = image_config(config_path, layers)
    config_name = sha256(config) + ".json"

    def build(tar):
        entry(tar, config_name, data=config)
        names = []
        for i, data in enumerate(layers):
            layer_id = sha256(str(i).encode())  # a v1 id: not the layer's digest
            entry(tar, layer_id, tarfile.DIRTYPE, mode=0o755)
            entry(tar, layer_id + "/layer.tar", data=data)
            names.append(layer_id + "/layer.tar")
        manifest = [{"Config": config_name, "RepoTags": ["test:latest"], "Layers": names}]
        entry(tar, "manifest.json", data=json.dumps(manifest).encode())
    write_tar(out, build)


def main(argv):
    command = argv[1]
    if command == "layer-dir":
        layer_dir(argv[2], argv[3], "--gzip" in argv[4:])
    elif command == "layer-upper":
        layer_upper(argv[2])
    elif command == "layer-bad":
        layer_bad(argv[2], argv[3])
    elif command == "oci":
        write_oci(argv[2], argv[3], argv[4:])
    elif command == "docker":
        write_docker(argv[2], argv[3], argv[4:])
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
