"""What the services the plugin adds to ministack share (``xray_service``, ``billing_service``)."""

from __future__ import annotations

import json


def checked(response) -> dict:
    """A service handler's response body; an error response raises ValueError, which fails
    the CloudFormation resource with the service's error code and message."""
    status, _headers, body = response
    parsed = json.loads(body) if body else {}
    if status >= 400:
        raise ValueError(f"{parsed.get('__type', status)}: {parsed.get('message', parsed)}")
    return parsed


def resetting(reset_all_state, *stores):
    """Wrap ministack's reset (``/_ministack/reset``) so it empties `stores` too."""

    def reset(*args, **kwargs):
        for store in stores:
            store.clear()
        return reset_all_state(*args, **kwargs)

    return reset
