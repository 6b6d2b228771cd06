"""Each rule that rejects a season, triggered by a small corrupted copy of slice files made
here (a few games of 2023NYA.EVA with TEAM2023 and the rosters), or, for the two rules that
cwevent's own output always satisfies (event ids 1..N, runs adding up to cwgame's final
score), by changing the parsed plays through the parser's hook. No database: these run the
release check and the parser as the import does before it loads anything."""

from __future__ import annotations

from dataclasses import replace

import pytest

from retrosheet_importer.eventfile import RawGame
from retrosheet_importer.parse import parse_release
from retrosheet_importer.problems import Rejected
from retrosheet_importer.release import verify, write_manifest
from retrosheet_importer.rosters import read_rosters
from retrosheet_importer.validate import Play, check_game
from tests.importer.helpers import golden_rows, line_number, small_release

NYA = "2023NYA.EVA"
OPENER, SECOND = "NYA202303300", "NYA202304010"
pytestmark = pytest.mark.usefixtures("retrosheet_data")


def problems(directory, plays_hook=None) -> list[str]:
    """Every problem the import would report for the release in `directory`, in the
    report's order."""
    try:
        release = verify(directory, directory / "SHA256SUMS")
    except Rejected as rejected:
        return [str(p) for p in rejected.problems]
    rosters = read_rosters(release)
    out = directory / "parsed"
    out.mkdir()
    parsed = parse_release(release, out, rosters, plays_hook=plays_hook)
    return [str(p) for p in sorted(rosters.problems + [q for f in parsed for q in f.problems])]


def test_a_clean_small_release_passes(tmp_path):
    assert problems(small_release(tmp_path)) == []


# --- the shape of the event file -----------------------------------------------------------


def test_a_file_cut_in_the_middle_of_a_line(tmp_path):
    def cut(games):
        return [*games[:2], [*games[2][:120], games[2][120][:12]]]

    release = small_release(tmp_path, edit=cut)
    last = len((release / NYA).read_bytes().splitlines())
    found = problems(release)
    assert f"{NYA}:{last}: truncated: the last line has no line end" in found
    assert any(
        p.startswith(f"{NYA}:") and "ends without its closing data lines" in p for p in found
    )


def test_a_game_without_its_final_lines(tmp_path):
    release = small_release(tmp_path, edit=lambda games: [*games[:2], games[2][:120]])
    last = len((release / NYA).read_bytes().splitlines())
    game = (release / NYA).read_text().splitlines()[last - 1]
    assert game.startswith(("play,", "sub,", "start,"))
    assert problems(release) == [
        f"{NYA}:{last}: game NYA202304020 ends without its closing data lines (truncated?)"
    ]


def test_an_unknown_record_type(tmp_path):
    def misspell(games):
        games[1] = [line.replace("play,1,0,", "plya,1,0,", 1) for line in games[1]]
        return games

    release = small_release(tmp_path, edit=misspell)
    line = line_number(release, NYA, "plya,")
    assert f"{NYA}:{line}: unknown record type 'plya'" in problems(release)


def test_a_play_line_with_a_field_missing(tmp_path):
    def drop_count(games):
        games[0] = [
            line.replace("play,1,0,wadel001,30,BBBB,W", "play,1,0,wadel001,BBBB,W")
            for line in games[0]
        ]
        return games

    release = small_release(tmp_path, edit=drop_count)
    line = line_number(release, NYA, "play,1,0,wadel001,BBBB,W")
    assert f"{NYA}:{line}: play line with 6 fields, expected 7" in problems(release)


def test_a_play_cwevent_cannot_read(tmp_path):
    def garble(games):
        games[0] = [line.replace(",CFC,K\r", ",CFC,ZZZ\r") for line in games[0]]
        return games

    release = small_release(tmp_path, edit=garble)
    line = line_number(release, NYA, "play,1,1,donaj001,02,CFC,ZZZ")
    assert f"{NYA}:{line}: game {OPENER}: a play cwevent could not read" in problems(release)


# --- game ids -------------------------------------------------------------------------------


def test_a_game_twice_in_one_file(tmp_path):
    release = small_release(tmp_path, edit=lambda games: [*games, games[0]])
    first, again = _id_lines(release, NYA, OPENER)
    assert problems(release) == [f"{NYA}:{again}: game {OPENER} is also at line {first}"]


def test_a_game_in_two_files_names_both_places(tmp_path):
    """The copy in 2023NYN.EVN is also reported as not the Mets' home game."""
    release = small_release(tmp_path, games=2)
    (release / "2023NYN.EVN").write_bytes((release / NYA).read_bytes())
    write_manifest(release)
    [opener, second] = [_id_lines(release, NYA, game)[0] for game in (OPENER, SECOND)]
    hometeam = line_number(release, "2023NYN.EVN", "info,hometeam,")
    assert problems(release) == [
        f"2023NYN.EVN:{opener}: game {OPENER} is also at {NYA}:{opener}",
        f"2023NYN.EVN:{hometeam}: game {OPENER} is NYA's home game, not NYN's as the file's "
        "name says (and 1 more of this file's games)",
        f"2023NYN.EVN:{second}: game {SECOND} is also at {NYA}:{second}",
    ]


def _id_lines(release, name, game_id) -> list[int]:
    return [
        n
        for n, line in enumerate((release / name).read_text().splitlines(), 1)
        if line == f"id,{game_id}"
    ]


# --- every game belongs to the release --------------------------------------------------------


def _replace(old: str, new: str, game: int = 0):
    """An edit of the games: `old` replaced by `new` in game `game`'s lines."""

    def edit(games):
        games[game] = [line.replace(old, new) for line in games[game]]
        return games

    return edit


def test_a_game_of_another_season(tmp_path):
    """The opener as 2024's: its id and its date say 2024."""

    def as_2024(games):
        games[0] = [
            line.replace(OPENER, "NYA202403300").replace("info,date,2023/", "info,date,2024/")
            for line in games[0]
        ]
        return games

    release = small_release(tmp_path, edit=as_2024)
    assert problems(release) == [
        f"{NYA}:1: game NYA202403300: its id is of season 2024, not the release's 2023"
    ]


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        (
            "info,date,2023/03/30",
            "info,date,2024/03/30",
            "date 2024/03/30 is not its id's (2023/03/30)",
        ),
        ("info,visteam,SFN", "info,visteam,SFX", "visiting team SFX is not in TEAM2023"),
    ],
)
def test_an_info_line_that_is_not_the_releases(written, instead, message, tmp_path):
    release = small_release(tmp_path, edit=_replace(written, instead))
    line = line_number(release, NYA, instead)
    assert problems(release) == [f"{NYA}:{line}: game {OPENER}: {message}"]


def test_a_game_without_a_date(tmp_path):
    release = small_release(tmp_path, edit=lambda games: [
        [line for line in games[0] if not line.startswith("info,date,")], *games[1:]
    ])  # fmt: skip
    assert f"{NYA}:1: game {OPENER}: no info,date line" in problems(release)


def test_a_home_team_that_is_not_the_games_id_nor_the_files_name(tmp_path):
    release = small_release(tmp_path, edit=_replace("info,hometeam,NYA", "info,hometeam,BOS"))
    line = line_number(release, NYA, "info,hometeam,BOS")
    assert problems(release) == [
        f"{NYA}:{line}: game {OPENER} is BOS's home game, not NYA's as the file's name says",
        f"{NYA}:{line}: game {OPENER}: home team BOS is not its id's (NYA)",
    ]


def _renamed(release, old: str, new: str):
    (release / old).rename(release / new)
    write_manifest(release)
    return release


def test_an_event_file_named_for_another_team(tmp_path):
    """The Yankees' home games in a file named for the Mets'."""
    release = _renamed(small_release(tmp_path), NYA, "2023NYN.EVN")
    line = line_number(release, "2023NYN.EVN", "info,hometeam,")
    assert problems(release) == [
        f"2023NYN.EVN:{line}: game {OPENER} is NYA's home game, not NYN's as the file's name "
        "says (and 2 more of this file's games)"
    ]


def test_two_event_files_swapped(tmp_path):
    release = small_release(tmp_path, games=1)
    nyn = small_release(tmp_path / "mets", games=1, name="2023NYN.EVN")
    (release / "2023NYN.EVN").write_bytes((release / NYA).read_bytes())
    (release / NYA).write_bytes((nyn / "2023NYN.EVN").read_bytes())
    write_manifest(release)
    [mets_opener] = [line[3:] for line in (release / NYA).read_text().splitlines()[:1]]
    line = line_number(release, NYA, "info,hometeam,")
    assert problems(release) == [
        f"{NYA}:{line}: game {mets_opener} is NYN's home game, not NYA's as the file's name says",
        f"2023NYN.EVN:{line}: game {OPENER} is NYA's home game, not NYN's as the file's name says",
    ]


def test_an_event_file_named_for_no_team(tmp_path):
    release = _renamed(small_release(tmp_path), NYA, "2023ZZZ.EVA")
    line = line_number(release, "2023ZZZ.EVA", "info,hometeam,")
    assert problems(release) == [
        "2023ZZZ.EVA: team ZZZ (the file's name) is not in TEAM2023",
        f"2023ZZZ.EVA:{line}: game {OPENER} is NYA's home game, not ZZZ's as the file's name "
        "says (and 2 more of this file's games)",
    ]


# --- line numbers are the file's physical lines -----------------------------------------------


@pytest.mark.parametrize("odd", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028"])
def test_line_numbers_count_only_line_feeds(odd, tmp_path):
    """A comment holding a character str.splitlines() would split at, before a misspelled
    record: the problem names the line an editor shows."""

    def odd_comment(games):
        games[0].insert(40, f'com,"a page{odd}break"\r\n')
        games[1].insert(5, "oops,1\r\n")
        return games

    release = small_release(tmp_path, edit=odd_comment)
    lines = (release / NYA).read_bytes().split(b"\n")
    line = next(n for n, text in enumerate(lines, 1) if text.startswith(b"oops,"))
    assert problems(release) == [f"{NYA}:{line}: unknown record type 'oops'"]


def test_an_unclosed_quote_hides_nothing(tmp_path):
    """The quote ends with its line: the game after it is read (and its error found)."""

    def unclosed(games):
        games[0].insert(-1, 'com,"never closed\r\n')
        games[1].insert(5, "oops,1\r\n")
        return games

    release = small_release(tmp_path, edit=unclosed)
    comment = line_number(release, NYA, 'com,"never closed')
    assert problems(release) == [
        f"{NYA}:{comment}: not one CSV record: unexpected end of data",
        f"{NYA}:{line_number(release, NYA, 'oops,')}: unknown record type 'oops'",
    ]


# --- plays ----------------------------------------------------------------------------------


def test_a_half_inning_short_of_three_outs(tmp_path):
    """Conforto's strikeout taken out: the top of the first ends with two outs."""

    def drop_out(games):
        games[0] = [line for line in games[0] if not line.startswith("play,1,0,confm001,")]
        return games

    release = small_release(tmp_path, edit=drop_out)
    line = line_number(release, NYA, "play,1,0,pedej001,")
    assert problems(release) == [
        f"{NYA}:{line}: game {OPENER}: the top of inning 1 ends with 2 outs, and the game goes on"
    ]


# The hooks run in the parse's spawned workers: module-level functions, pickled by name.
def skip_ten(name, plays):
    plays[SECOND][9:] = [replace(p, event_id=p.event_id + 1) for p in plays[SECOND][9:]]


def extra_run(name, plays):
    plays[OPENER][0] = replace(plays[OPENER][0], runs=1)


def test_event_ids_not_one_to_n(tmp_path):
    """cwevent numbers plays itself, so the gap is made in its parsed output."""
    release = small_release(tmp_path)
    assert problems(release, plays_hook=skip_ten) == [
        f"{NYA}:{_play_line(release, SECOND, 10)}: game {SECOND}: event ids are not "
        f"1..{_plays(release, SECOND)}: event 11 where 10 belongs"
    ]


def test_runs_that_do_not_add_up_to_the_final_score(tmp_path):
    """cwgame's final score comes from the same plays, so a run is added to the parsed plays."""
    release = small_release(tmp_path)
    assert problems(release, plays_hook=extra_run) == [
        f"{NYA}:{line_number(release, NYA, 'id,' + OPENER)}: game {OPENER}: runs scored on the "
        "plays (1-5) disagree with the final score (0-5)"
    ]


def test_a_player_on_no_roster(tmp_path):
    release = small_release(tmp_path)
    roster = release / "NYA2023.ROS"
    roster.write_text(
        "".join(
            line
            for line in roster.read_text().splitlines(keepends=True)
            if not line.startswith("judga001,")
        )
    )
    write_manifest(release)
    line = line_number(release, NYA, "play,1,1,judga001,")
    assert f"{NYA}:{line}: player 'judga001' is on no roster" in problems(release)


# --- the manifest ----------------------------------------------------------------------------


def test_a_file_that_does_not_match_its_checksum(tmp_path):
    release = small_release(tmp_path)
    with (release / NYA).open("ab") as f:
        f.write(b'com,"one more line"\r\n')
    [found] = problems(release)
    assert found.startswith(f"{NYA}: checksum mismatch: SHA256SUMS says ")


def test_a_listed_file_that_is_missing(tmp_path):
    release = small_release(tmp_path)
    (release / "SFN2023.ROS").unlink()
    assert problems(release) == ["SFN2023.ROS: listed in SHA256SUMS but missing"]


def test_an_event_file_not_listed(tmp_path):
    release = small_release(tmp_path)
    (release / "2023NYN.EVN").write_bytes((release / NYA).read_bytes())
    assert problems(release) == ["2023NYN.EVN: not listed in SHA256SUMS"]


def test_a_malformed_manifest(tmp_path):
    release = small_release(tmp_path)
    (release / "SHA256SUMS").write_text("not a checksum  2023NYA.EVA\n")
    assert problems(release) == ["SHA256SUMS:1: not a sha256sum line: `HEX  NAME`"]


# --- half-innings that may end short of three outs -------------------------------------------


def _game_lines(release, game_id):
    lines = (release / NYA).read_text().splitlines()
    start = lines.index(f"id,{game_id}")
    rest = lines[start + 1 :]
    end = next((i for i, line in enumerate(rest) if line.startswith("id,")), len(rest))
    return rest[:end]


def _is_play(line: str) -> bool:
    return line.startswith("play,") and not line.endswith(",NP")


def _play_line(release, game_id, event_id) -> int:
    """The file's line of a game's `event_id`th play."""
    lines = (release / NYA).read_text().splitlines()
    start = lines.index(f"id,{game_id}")
    plays = [n for n in range(start + 1, len(lines)) if _is_play(lines[n])]
    return plays[event_id - 1] + 1


def _plays(release, game_id) -> int:
    return sum(_is_play(line) for line in _game_lines(release, game_id))


def _play(event_id, inning, home, outs_before, outs_on_play, runs=0) -> Play:
    return Play(event_id, inning, home, outs_before, outs_on_play, runs, event_type=2)


def _game(plays: int) -> RawGame:
    return RawGame("NYA202309300", 1, play_lines=list(range(10, 10 + plays)))


def _innings(*halves: tuple[int, bool, int]) -> list[Play]:
    """Plays of consecutive half-innings, each (inning, home bats, outs made) by single outs."""
    plays = []
    for inning, home, outs in halves:
        for out in range(outs):
            plays.append(_play(len(plays) + 1, inning, home, out, 1))
        if outs == 0:
            plays.append(_play(len(plays) + 1, inning, home, 0, 0, runs=1))
    return plays


@pytest.mark.parametrize(
    ("halves", "score"),
    [
        # the home team leads after eight and a half: no bottom of the ninth
        ([(i, h, 3) for i in range(1, 9) for h in (False, True)] + [(9, False, 3)], (0, 0)),
        # walk-off: the bottom of the ninth ends with the winning run and no out
        (
            [(i, h, 3) for i in range(1, 9) for h in (False, True)] + [(9, False, 3), (9, True, 0)],
            (0, 1),
        ),
        # rain: called in the top of the sixth with one out
        ([(i, h, 3) for i in range(1, 6) for h in (False, True)] + [(6, False, 1)], (0, 0)),
    ],
)
def test_the_last_half_inning_may_end_short(halves, score):
    plays = _innings(*halves)
    assert check_game("f", _game(len(plays)), plays, score) == []


def test_more_than_three_outs_is_refused():
    plays = _innings((1, False, 4), (1, True, 3))
    [problem] = check_game("f", _game(len(plays)), plays, (0, 0))
    assert "the top of inning 1 ends with 4 outs" in str(problem)


def test_the_slice_has_each_kind_of_ending():
    """The slice, which passes, has games whose last half-inning is the top of the ninth
    (the home team leading), a walk-off, and one that was not nine innings long."""
    _, *rows = golden_rows()
    last = {}
    for row in rows:
        last[row[0]] = (int(row[2]), row[3] == "1", int(row[4]) + int(row[40]))
    endings = set(last.values())
    assert (9, False, 3) in endings
    assert any(home and outs < 3 for _, home, outs in endings)
    assert any(inning < 9 for inning, _, _ in endings)
