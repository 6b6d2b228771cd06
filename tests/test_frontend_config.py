"""`playback-infra frontend-config`: the SPA's /config.json from the model and the stack."""

from __future__ import annotations

import pytest

from playback_infra.cli import EXIT_CONFIG, main
from playback_infra.deploy import environment
from playback_infra.frontend_config import config


def test_config_takes_the_model_and_the_stack_outputs():
    dev = environment("dev")
    content = config(
        dev, {"SiteUrl": "https://dev.playback.example.com", "VpcId": "vpc-1"}, "3f2a1c9"
    )
    assert content == {
        "environment": "dev",
        "siteUrl": "https://dev.playback.example.com",
        "apiBasePath": "/api",
        "buildVersion": "3f2a1c9",
        "features": {
            "narration": True,
            "boxScore": True,
            "maxReplaySpeed": 8,
            "pollIntervalSeconds": 5,
            "debugPanel": True,
        },
    }
    assert config(environment("prod"), {"SiteUrl": "x"}, "v1")["features"]["debugPanel"] is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "dev", "--build-version", "abc"], "give --profile (a real account) or --endpoint-url"),
        (["--env", "dev", "--build-version", "abc def", "--endpoint-url", "http://127.0.0.1:1"],
         "field 'build-version': 'abc def' must be a commit SHA or release tag"),
        (["--env", "qa", "--build-version", "abc"], "field 'env': unknown environment; known: dev"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_error(capsys, argv, message):
    assert main(["frontend-config", *argv]) == EXIT_CONFIG
    assert message in capsys.readouterr().err
