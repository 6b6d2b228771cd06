"""The emulator's ECR (emulator/ecr_service.py): an image's config blob, pushed as docker
pushes it, is read back through GetDownloadUrlForLayer's URL, as a client reads a layer."""

from __future__ import annotations

import json
import urllib.request

import pytest

from conftest import error_code
from tests.oci_images import push_image

pytestmark = pytest.mark.emulator

REPOSITORY = "baseball-playback/backend"


def test_a_config_blob_is_downloaded_through_its_layer_url(endpoint, aws):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName=REPOSITORY)
    digest = push_image(endpoint, REPOSITORY, "v1", "arm64")

    (image,) = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "v1"}])[
        "images"
    ]
    assert image["imageId"]["imageDigest"] == digest
    config = json.loads(image["imageManifest"])["config"]["digest"]
    answer = ecr.get_download_url_for_layer(repositoryName=REPOSITORY, layerDigest=config)
    assert answer["layerDigest"] == config
    assert answer["downloadUrl"] == f"{endpoint}/v2/{REPOSITORY}/blobs/{config}"
    with urllib.request.urlopen(answer["downloadUrl"]) as blob:
        assert json.load(blob)["architecture"] == "arm64"


def test_a_layer_the_repository_lacks_is_refused(endpoint, aws):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="baseball-playback/jobs")
    missing = "sha256:" + "1" * 64
    call = ecr.get_download_url_for_layer
    assert error_code(call, repositoryName="baseball-playback/jobs", layerDigest=missing) == (
        "LayersNotFoundException"
    )
    assert error_code(call, repositoryName="no/such", layerDigest=missing) == (
        "RepositoryNotFoundException"
    )
