"""Release files read as the physical lines an editor shows: split at LF only, a CRLF's CR
dropped, so that line N of a report is line N of the file whatever other bytes it holds
(str.splitlines would also split at VT, FF, FS, GS, RS, NEL and the Unicode separators);
in the CSV files, each line is one record (a quote never runs on into the next line)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from retrosheet_importer.problems import Problem


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


def csv_records(
    name: str, lines: list[str], problems: list[Problem]
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each of file `name`'s `lines` that is one CSV record (an empty
    line has no fields); any other line (e.g. an unclosed quote) is a problem of the file."""
    for number, line in enumerate(lines, start=1):
        try:
            [fields] = csv.reader([line], strict=True)
        except csv.Error as error:
            problems.append(Problem(name, number, f"not one CSV record: {error}"))
            continue
        yield number, fields
