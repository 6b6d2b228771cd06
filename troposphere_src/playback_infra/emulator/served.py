"""What the plugin's service modules share: reading a service handler's answer, writing XML,
typing the members a template resolved to strings."""

from __future__ import annotations

import json
from xml.etree import ElementTree


def json_answer(response, what=None) -> dict:
    """A service handler's JSON answer; an error answer raises ValueError with its error type
    and message (after ``what`` if given), which fails the CloudFormation resource with them."""
    status, _headers, body = response
    answer = json.loads(body) if body else {}
    if status >= 400:
        message = answer.get("message") or answer.get("Message") or answer
        error = f"{answer.get('__type', status)}: {message}"
        raise ValueError(f"{what}: {error}" if what else error)
    return answer


def resetting(reset_all_state, *stores):
    """Wrap ministack's reset (``/_ministack/reset``) so it empties `stores` too."""

    def reset(*args, **kwargs):
        for store in stores:
            store.clear()
        return reset_all_state(*args, **kwargs)

    return reset


def xml_answer(response, what=None):
    """The parsed XML answer of a query or REST-XML API function (None for an empty one); an
    error answer raises ValueError with its code and message, after ``what`` if given."""
    status, _headers, body = response
    answer = ElementTree.fromstring(body) if body else None
    if status >= 400:
        error = f"{answer.findtext('.//{*}Code')}: {answer.findtext('.//{*}Message')}"
        raise ValueError(f"{what}: {error}" if what else error)
    return answer


def xml_members(parent, members):
    """Append ``members`` (a dict of tag -> text, dict or list of repeated elements) to an
    XML element; None values are left out."""
    for tag, value in members.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            element = ElementTree.SubElement(parent, tag)
            if isinstance(item, dict):
                xml_members(element, item)
            else:
                element.text = str(item).lower() if isinstance(item, bool) else str(item)


def typed(value, converters, keep=frozenset()):
    """``value`` with each member named in ``converters`` that arrives as a string (a ``Ref`` to
    a parameter or an ``Fn::If`` makes numbers and booleans strings) made what its converter
    returns; the maps named in ``keep`` (keys of the template author's) stay as they are."""

    def member(key, item):
        if isinstance(item, str) and key in converters:
            return converters[key](item)
        return item if key in keep else typed(item, converters, keep)

    if isinstance(value, list):
        return [typed(item, converters, keep) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: member(key, item) for key, item in value.items()}


def integer(text):
    """``text`` as an int when it spells one, else as it is."""
    return int(text) if text.lstrip("-").isdigit() else text
