"""ECR for ministack: the download URL of an image's layers and config.

ministack 1.5.33 serves the registry API (``/v2/REPOSITORY/blobs/DIGEST``) but answers
GetDownloadUrlForLayer with a URL on amazonaws.com that nothing serves, whether the blob exists
or not. ``serving_layer_downloads`` answers with the emulator's own blob URL, and refuses a
digest the repository does not hold.
"""

import json

from ministack.core.responses import error_response_json, json_response
from ministack.services import ecr

_ACTION = "GetDownloadUrlForLayer"


def _download_url(data, headers):
    """GetDownloadUrlForLayer: "the pre-signed Amazon S3 download URL corresponding to an image
    layer. You can only get URLs for image layers that are referenced in an image"
    (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetDownloadUrlForLayer.html).
    Here the URL is the emulator's registry API for the blob, on the host the client called."""
    name, digest = data.get("repositoryName", ""), data.get("layerDigest", "")
    if name not in ecr._repositories:
        return error_response_json(
            "RepositoryNotFoundException",
            f"The repository with name '{name}' does not exist in the registry",
            400,
        )
    if digest not in ecr._layer_blobs.get(name, {}):
        return error_response_json(
            "LayersNotFoundException",
            f"The layer {digest} is not in repository {name}.",
            400,
        )
    scheme = headers.get("x-forwarded-proto") or "http"
    return json_response(
        {
            "downloadUrl": f"{scheme}://{headers['host']}/v2/{name}/blobs/{digest}",
            "layerDigest": digest,
        }
    )


def serving_layer_downloads(handle_request):
    """Wrap ministack's ECR handler so GetDownloadUrlForLayer answers ``_download_url``."""

    async def handle(method, path, headers, body, query_params):
        if headers.get("x-amz-target", "").rpartition(".")[2] != _ACTION:
            return await handle_request(method, path, headers, body, query_params)
        return _download_url(json.loads(body) if body else {}, headers)

    return handle
