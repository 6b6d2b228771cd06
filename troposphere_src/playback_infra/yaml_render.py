"""Templates as CloudFormation YAML with short-form intrinsics (`!Ref`, `!GetAtt`, ...).

PyYAML's C emitter (libyaml, shipped in the PyYAML wheel) with one representer for intrinsic
functions: about nine times faster than troposphere's `to_yaml`, which goes through cfn-flip's
pure-Python dumper. Keys are sorted, so the output is stable.

`to_yaml` feeds the C emitter events straight from the dicts and lists (`_Events`), each
string's event made once, nearly three times as fast as PyYAML's representer and serializer,
which build a node graph first and ask the Python resolver twice per scalar; a document those two would write differently (an object met
twice, which they write as an anchor and an alias, or a type `_Events` does not know) goes
through them instead, so the bytes are the same either way.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

SHORT_FORMS = {
    name: "!" + name.removeprefix("Fn::")
    for name in (
        "Ref", "Condition", "Fn::And", "Fn::Base64", "Fn::Cidr", "Fn::Equals", "Fn::FindInMap",
        "Fn::GetAtt", "Fn::GetAZs", "Fn::If", "Fn::ImportValue", "Fn::Join", "Fn::Not", "Fn::Or",
        "Fn::Select", "Fn::Split", "Fn::Sub",
    )
}  # fmt: skip


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _Dumper(yaml.CSafeDumper):
    pass


def _short_form(data: dict) -> tuple[str, list | dict | str] | None:
    """A lone intrinsic function key's (tag, content): a list or dict written as a sequence or
    mapping under the tag, or the scalar's text (`A.B` for a GetAtt of names)."""
    if len(data) != 1:
        return None
    ((key, value),) = data.items()
    tag = SHORT_FORMS.get(key)
    # "Condition" is also a resource attribute holding a name; only a lone key is the function.
    if tag is None:
        return None
    if key == "Fn::GetAtt" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tag, ".".join(value)
    if isinstance(value, list | dict):
        return tag, value
    return tag, str(value)


def _represent(dumper: _Dumper, data: dict):
    short = _short_form(data)
    if short is None:
        return dumper.represent_mapping(_MAP, sorted(data.items()))
    tag, content = short
    if isinstance(content, list):
        return dumper.represent_sequence(tag, content)
    if isinstance(content, dict):
        return dumper.represent_mapping(tag, sorted(content.items()))
    return dumper.represent_scalar(tag, content)


_Dumper.add_representer(dict, _represent)

# PyYAML resolves YAML 1.1, where "054676820928" (a leading zero and an 8 or 9) is no number and
# so goes out unquoted; a YAML 1.2 reader takes it for 54676820928. Quote every string that
# YAML 1.2 would read as a number.
_YAML12_NUMBER = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _represent_str(dumper: _Dumper, data: str):
    style = "'" if _YAML12_NUMBER.match(data) else None
    return dumper.represent_scalar(_STR, data, style=style)


_Dumper.add_representer(str, _represent_str)


_OPTIONS = {"default_flow_style": False, "width": 100, "allow_unicode": True}
# A string starting with none of these can only be read back as a string (the resolver's table).
_MAY_RESOLVE = frozenset(_Dumper.yaml_implicit_resolvers)


_SCALARS = frozenset({bool, int, float, type(None)})
# One event of each kind serves every node (the emitter keeps no event).
_SEQUENCE_STARTS = {
    tag: SequenceStartEvent(None, tag, tag == _SEQ, flow_style=False)
    for tag in (_SEQ, *SHORT_FORMS.values())
}
_MAPPING_STARTS = {
    tag: MappingStartEvent(None, tag, tag == _MAP, flow_style=False)
    for tag in (_MAP, *SHORT_FORMS.values())
}
_SEQUENCE_END, _MAPPING_END = SequenceEndEvent(), MappingEndEvent()
_RESOLVER = yaml.resolver.Resolver()  # what the dumper's serializer asks (its own resolver)


class _NotPlain(Exception):
    """The document holds what `_Events` leaves to PyYAML's representer."""


@lru_cache(maxsize=8192)
def _string(data: str) -> ScalarEvent:
    """A string's event, made once for its every occurrence: the emitter copies what an event
    says and keeps no event, and the templates repeat their keys and names (22,000 strings,
    3,600 distinct)."""
    # Written plain, would a reader take it for a string? (What the serializer asks.)
    plain = (bool(data) and data[0] not in _MAY_RESOLVE) or _RESOLVER.resolve(
        ScalarNode, data, (True, False)
    ) == _STR
    style = "'" if _YAML12_NUMBER.match(data) else None
    return ScalarEvent(None, _STR, (plain, True), data, style=style)


class _Events:
    """The events PyYAML's representer and serializer would emit for a document (no anchors)."""

    def __init__(self, dumper: _Dumper) -> None:
        self.dumper = dumper
        self.emit = dumper.emit
        self.seen: set[int] = set()

    def node(self, data) -> None:
        kind = type(data)
        if kind is str:
            self.emit(_string(data))
            return
        if kind in _SCALARS:
            dumper = self.dumper
            node = dumper.represent_data(data)
            implicit = tuple(
                node.tag == dumper.resolve(ScalarNode, node.value, asked)
                for asked in ((True, False), (False, True))
            )
            self.emit(ScalarEvent(None, node.tag, implicit, node.value, style=node.style))
            return
        if (kind is not dict and kind is not list) or id(data) in self.seen:
            raise _NotPlain
        self.seen.add(id(data))
        tag, items = (_MAP if kind is dict else _SEQ), data
        short = _short_form(data) if kind is dict and len(data) == 1 else None
        if short:
            tag, items = short
            if isinstance(items, str):
                self.emit(ScalarEvent(None, tag, (False, False), items))
                return
            kind = list if isinstance(items, list) else dict
        emit, node = self.emit, self.node
        if kind is list:
            emit(_SEQUENCE_STARTS[tag])
            for item in items:
                if type(item) is str:
                    emit(_string(item))
                else:
                    node(item)
            emit(_SEQUENCE_END)
            return
        emit(_MAPPING_STARTS[tag])
        for key, value in sorted(items.items()):
            if type(key) is str:
                emit(_string(key))
            else:
                node(key)
            if type(value) is str:
                emit(_string(value))
            else:
                node(value)
        emit(_MAPPING_END)


def to_yaml(template: dict) -> str:
    stream = io.StringIO()
    dumper = _Dumper(stream, **_OPTIONS)
    try:
        dumper.open()
        dumper.emit(DocumentStartEvent(explicit=False))
        _Events(dumper).node(template)
        dumper.emit(DocumentEndEvent(explicit=False))
        dumper.close()
    except _NotPlain:
        return yaml.dump(template, Dumper=_Dumper, **_OPTIONS)
    finally:
        dumper.dispose()
    return stream.getvalue()


class _Loader(yaml.CSafeLoader):
    pass


_LONG_FORMS = {tag: name for name, tag in SHORT_FORMS.items()}


def _construct(loader: _Loader, tag_suffix: str, node: yaml.Node):
    name = _LONG_FORMS["!" + tag_suffix]
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    return {name: value}


_Loader.add_multi_constructor("!", _construct)


def from_yaml(text: str) -> dict:
    """A template written by `to_yaml`, back as the dict it was made from (long-form intrinsics)."""
    return yaml.load(text, Loader=_Loader)
