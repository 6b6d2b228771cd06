"""Release files read as the physical lines an editor shows: split at LF only, a CRLF's CR
dropped, so that line N of a report is line N of the file whatever other bytes it holds
(str.splitlines would also split at VT, FF, FS, GS, RS, NEL and the Unicode separators)."""

from __future__ import annotations


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older releases


def physical_lines(text: str) -> list[str]:
    """The lines of `text`, numbered from 1 by their index + 1; a last line without its LF
    is a line too."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
