"""The generated YAML reads back as the template it was written from."""

from __future__ import annotations

import pytest

from playback_infra import synth
from playback_infra.paths import REPO_ROOT
from playback_infra.yaml_render import from_yaml, to_yaml


def test_every_committed_template_reads_back_as_rendered():
    rendered = synth.render()
    for name, template in rendered.templates.items():
        text = (REPO_ROOT / "templates" / f"{name}.yaml").read_text()
        assert from_yaml(text) == template.to_dict(), name


@pytest.mark.parametrize(
    "node",
    [
        {"Fn::GetAtt": ["Role", "Arn"]},
        {"Fn::GetAtt": ["Stack", "Outputs.Value"]},
        {"Fn::If": ["Cond", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]},
        {"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]},
        {"Condition": "Cond"},
    ],
)
def test_short_forms_read_back_as_long_forms(node):
    assert from_yaml(to_yaml({"Value": node})) == {"Value": node}
