"""A release: one season's event files, rosters and TEAMyyyy, listed in SHA256SUMS.

SHA256SUMS is in `sha256sum` format (`<64 hex>  NAME`, or `*NAME` for binary mode). Every
release file must be listed with its true checksum; a listed file that is missing, a wrong
checksum, or a release file that is not listed rejects the season.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from retrosheet_importer.lines import decode, physical_lines
from retrosheet_importer.problems import Problem, Rejected

MANIFEST = "SHA256SUMS"
EVENT_FILE = re.compile(r"^(?P<season>\d{4})(?P<team>[A-Z0-9]{3})\.EV[AN]$")
ROSTER_FILE = re.compile(r"^(?P<team>[A-Z0-9]{3})(?P<season>\d{4})\.ROS$")
TEAM_FILE = re.compile(r"^TEAM(?P<season>\d{4})$")
MANIFEST_LINE = re.compile(r"^(?P<sha256>[0-9a-fA-F]{64}) [ *](?P<name>[^/\\]+)$")
CHUNK = 1 << 20


@dataclass(frozen=True)
class ReleaseFile:
    name: str
    sha256: str
    bytes: int

    def as_json(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(frozen=True)
class Release:
    """A verified release in `directory`: every file's checksum matched the manifest."""

    directory: Path
    season: int
    files: tuple[ReleaseFile, ...]

    def named(self, pattern: re.Pattern) -> list[ReleaseFile]:
        return [f for f in self.files if pattern.match(f.name)]

    @property
    def event_files(self) -> list[ReleaseFile]:
        return self.named(EVENT_FILE)

    @property
    def roster_files(self) -> list[ReleaseFile]:
        return self.named(ROSTER_FILE)

    @property
    def team_file(self) -> ReleaseFile:
        [team] = self.named(TEAM_FILE)
        return team


def is_release_file(name: str) -> bool:
    return any(p.match(name) for p in (EVENT_FILE, ROSTER_FILE, TEAM_FILE))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, str]:
    """Name -> expected SHA-256 (lower-case hex); a malformed manifest is rejected."""
    problems, listed = [], {}
    for number, line in enumerate(physical_lines(decode(path.read_bytes())), start=1):
        if not line.strip():
            continue
        match = MANIFEST_LINE.match(line)
        if not match:
            problems.append(Problem(MANIFEST, number, "not a sha256sum line: `HEX  NAME`"))
        elif match["name"] in listed:
            problems.append(Problem(MANIFEST, number, f"{match['name']} is listed twice"))
        else:
            listed[match["name"]] = match["sha256"].lower()
    if problems:
        raise Rejected(problems)
    return listed


def verify(directory: Path, manifest: Path) -> Release:
    """The release in `directory` as `manifest` lists it, or Rejected with every problem."""
    listed = read_manifest(manifest)
    problems: list[Problem] = []
    files = []
    for name, expected in sorted(listed.items()):
        path = directory / name
        if not path.is_file():
            problems.append(Problem(name, 0, f"listed in {MANIFEST} but missing"))
            continue
        actual = sha256_of(path)
        if actual != expected:
            problems.append(
                Problem(name, 0, f"checksum mismatch: {MANIFEST} says {expected}, file is {actual}")
            )
        if not is_release_file(name):
            problems.append(Problem(name, 0, "not a release file (*.EVA, *.EVN, *.ROS, TEAMyyyy)"))
        files.append(ReleaseFile(name, actual, path.stat().st_size))
    for path in sorted(directory.iterdir()):
        if is_release_file(path.name) and path.name not in listed:
            problems.append(Problem(path.name, 0, f"not listed in {MANIFEST}"))
    seasons = {
        int(m["season"])
        for f in files
        for m in [p.match(f.name) for p in (EVENT_FILE, ROSTER_FILE, TEAM_FILE)]
        if m
    }
    teams = [f for f in files if TEAM_FILE.match(f.name)]
    if len(seasons) > 1:
        problems.append(Problem(MANIFEST, 0, f"one season per release, found {sorted(seasons)}"))
    if len(teams) != 1:
        problems.append(
            Problem(MANIFEST, 0, f"a release has one TEAMyyyy file, found {len(teams)}")
        )
    if not any(EVENT_FILE.match(f.name) for f in files):
        problems.append(Problem(MANIFEST, 0, "no event files (*.EVA, *.EVN) listed"))
    if problems:
        raise Rejected(problems)
    return Release(directory, seasons.pop(), tuple(files))


def season_of(directory: Path) -> int | None:
    """The season the TEAMyyyy file in `directory` names, if there is exactly one."""
    seasons = {int(m["season"]) for p in directory.iterdir() if (m := TEAM_FILE.match(p.name))}
    return seasons.pop() if len(seasons) == 1 else None


def write_manifest(directory: Path) -> Path:
    """Write SHA256SUMS for the release files in `directory` (for tests and benchmarks)."""
    names = sorted(p.name for p in directory.iterdir() if is_release_file(p.name))
    manifest = directory / MANIFEST
    manifest.write_text("".join(f"{sha256_of(directory / n)}  {n}\n" for n in names))
    return manifest
