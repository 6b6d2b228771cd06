"""Push images into the emulator's ECR as `docker push` does, through its registry API
(``/v2/...``): a config blob, then the manifest under a tag; several architectures make an
image index (OCI image spec: https://github.com/opencontainers/image-spec)."""

from __future__ import annotations

import hashlib
import json
import urllib.request

CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _send(endpoint: str, path: str, body: bytes, method: str, content_type: str = "") -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(f"{endpoint}{path}", data=body, method=method, headers=headers)
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201, answer.status


def _push_manifest(endpoint: str, repository: str, reference: str, architecture: str) -> bytes:
    config = json.dumps({"architecture": architecture, "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()  # fmt: skip
    _send(endpoint, f"/v2/{repository}/blobs/uploads/?digest={_digest(config)}", config, "POST")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "layers": [],
                           "config": {"mediaType": CONFIG, "size": len(config), "digest": _digest(config)}}).encode()  # fmt: skip
    _send(endpoint, f"/v2/{repository}/manifests/{reference}", manifest, "PUT", MANIFEST)
    return manifest


def push_image(endpoint: str, repository: str, tag: str, *architectures: str) -> str:
    """Push an image built for `architectures` (Go names: amd64, arm64) as `repository:tag`;
    its digest. One architecture is a single image; more are an index of one image each."""
    if len(architectures) == 1:
        return _digest(_push_manifest(endpoint, repository, tag, architectures[0]))
    entries = []
    for architecture in architectures:
        manifest = _push_manifest(endpoint, repository, f"{tag}-{architecture}", architecture)
        entries.append({"mediaType": MANIFEST, "size": len(manifest), "digest": _digest(manifest),
                        "platform": {"architecture": architecture, "os": "linux"}})  # fmt: skip
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}).encode()
    _send(endpoint, f"/v2/{repository}/manifests/{tag}", index, "PUT", INDEX)
    return _digest(index)
