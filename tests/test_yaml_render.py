"""The generated YAML reads back as the template it was written from, byte for byte as PyYAML's
representer would write it."""

from __future__ import annotations

import pytest
import yaml

from playback_infra import synth, yaml_render
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


def _pyyaml(document) -> str:
    """The document through PyYAML's own representer and serializer (what `to_yaml` must match)."""
    return yaml.dump(document, Dumper=yaml_render._Dumper, **yaml_render._OPTIONS)


def test_every_template_is_written_as_pyyaml_writes_it():
    for name, template in synth.render().dicts.items():
        assert to_yaml(template) == _pyyaml(template), name


@pytest.mark.parametrize(
    "value",
    [
        # strings a reader would take for something else, quoted or not
        "", "null", "~", "yes", "No", "on", "0x1F", "1e3", "1.5", ".inf", "054676820928",
        "2023-01-01", "12:30", "<<", "=",
        # strings the emitter must quote, fold or break
        "- x", "a: b", "#x", "x #y", "'q'", '"dq"', "multi\nline\n", "trailing ", " leading",
        "ü ✓", "x" * 250, "word " * 60, "!Ref x", "&a", "*a", "%x", "@x", "|", ">", "{a}", "[b]",
        # other scalars, empty collections, intrinsics of every shape
        True, False, None, 0, -1, 3.5, 1e20, float("inf"), 10**30, [], {}, [[], {}, [1, [2]]],
        {"Fn::GetAtt": ["A", {"Ref": "B"}]}, {"Fn::If": ["C", {"Ref": "AWS::NoValue"}, 3]},
        {"Fn::Base64": {"Fn::Sub": "abc"}}, {"Ref": 5}, {"Condition": "X"},
    ],
)  # fmt: skip
def test_any_value_is_written_as_pyyaml_writes_it(value):
    assert to_yaml({"Value": value}) == _pyyaml({"Value": value})


def test_an_object_met_twice_is_written_as_pyyaml_writes_it():
    shared = {"Key": "value"}
    document = {"A": shared, "B": [shared]}
    assert to_yaml(document) == _pyyaml(document)
    assert "&id001" in to_yaml(document)
