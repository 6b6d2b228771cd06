"""TEAMyyyy and the rosters (*.ROS): the teams, players and roster entries of a season."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from retrosheet_importer.lines import csv_records, decode, physical_lines
from retrosheet_importer.problems import Problem
from retrosheet_importer.release import Release

TEAM_FIELDS = 4  # team id, league, city, nickname
ROSTER_FIELDS = 7  # player id, last name, first name, bats, throws, team id, position


@dataclass
class Rosters:
    teams: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    """(season, team id, league, city, nickname)"""
    players: dict[str, tuple[str, str]] = field(default_factory=dict)
    """player id -> (last name, first name)"""
    entries: list[tuple[int, str, str, str, str, str]] = field(default_factory=list)
    """(season, team id, player id, bats, throws, position)"""
    problems: list[Problem] = field(default_factory=list)


def _rows(path: Path, problems: list[Problem]) -> list[tuple[int, list[str]]]:
    """(line, fields) of each non-empty line; a line that is not one CSV record is a problem."""
    lines = physical_lines(decode(path.read_bytes()))
    return [(number, row) for number, row in csv_records(path.name, lines, problems) if row]


def read_rosters(release: Release) -> Rosters:
    season, found = release.season, Rosters()
    team_file = release.team_file.name
    for number, row in _rows(release.directory / team_file, found.problems):
        if len(row) != TEAM_FIELDS:
            found.problems.append(
                Problem(team_file, number, f"{len(row)} fields, expected {TEAM_FIELDS}")
            )
            continue
        found.teams.append((season, *row))
    teams = {team for _, team, *_ in found.teams}
    for roster in release.roster_files:
        for number, row in _rows(release.directory / roster.name, found.problems):
            if len(row) != ROSTER_FIELDS:
                found.problems.append(
                    Problem(roster.name, number, f"{len(row)} fields, expected {ROSTER_FIELDS}")
                )
                continue
            player, last, first, bats, throws, team, position = row
            if team not in teams:
                found.problems.append(
                    Problem(roster.name, number, f"team {team} not in {team_file}")
                )
                continue
            found.players.setdefault(player, (last, first))
            found.entries.append((season, team, player, bats, throws, position))
    return found
