"""Where each column of the replay tables comes from in the Chadwick tools' CSV output.

The plays columns follow the migration's comments (database/migrations, "f N" standard field,
"x N" extended field of `cwevent -n -f 0-96 -x 0-66`); a test checks the two agree.
"""

from __future__ import annotations

EXTENDED_OFFSET = 97  # cwevent -f 0-96 comes first, then the extended fields

# (column, "f" or "x", field number, cwevent header)
PLAYS = (
    ("game_id", "f", 0, "GAME_ID"),
    ("event_id", "f", 96, "EVENT_ID"),
    ("inning", "f", 2, "INN_CT"),
    ("batting_team_home", "f", 3, "BAT_HOME_ID"),
    ("batting_team_id", "x", 1, "BAT_TEAM_ID"),
    ("outs_before", "f", 4, "OUTS_CT"),
    ("balls", "f", 5, "BALLS_CT"),
    ("strikes", "f", 6, "STRIKES_CT"),
    ("pitch_sequence", "f", 7, "PITCH_SEQ_TX"),
    ("visiting_score_before", "f", 8, "AWAY_SCORE_CT"),
    ("home_score_before", "f", 9, "HOME_SCORE_CT"),
    ("batter_id", "f", 10, "BAT_ID"),
    ("batter_hand", "f", 11, "BAT_HAND_CD"),
    ("pitcher_id", "f", 14, "PIT_ID"),
    ("pitcher_hand", "f", 15, "PIT_HAND_CD"),
    ("catcher_id", "f", 18, "POS2_FLD_ID"),
    ("first_baseman_id", "f", 19, "POS3_FLD_ID"),
    ("second_baseman_id", "f", 20, "POS4_FLD_ID"),
    ("third_baseman_id", "f", 21, "POS5_FLD_ID"),
    ("shortstop_id", "f", 22, "POS6_FLD_ID"),
    ("left_fielder_id", "f", 23, "POS7_FLD_ID"),
    ("center_fielder_id", "f", 24, "POS8_FLD_ID"),
    ("right_fielder_id", "f", 25, "POS9_FLD_ID"),
    ("runner_on_first_id", "f", 26, "BASE1_RUN_ID"),
    ("runner_on_second_id", "f", 27, "BASE2_RUN_ID"),
    ("runner_on_third_id", "f", 28, "BASE3_RUN_ID"),
    ("event_text", "f", 29, "EVENT_TX"),
    ("batter_fielding_position", "f", 32, "BAT_FLD_CD"),
    ("batter_lineup_position", "f", 33, "BAT_LINEUP_ID"),
    ("event_type", "f", 34, "EVENT_CD"),
    ("is_batter_event", "f", 35, "BAT_EVENT_FL"),
    ("is_at_bat", "f", 36, "AB_FL"),
    ("hit_value", "f", 37, "H_CD"),
    ("outs_on_play", "f", 40, "EVENT_OUTS_CT"),
    ("rbi", "f", 43, "RBI_CT"),
    ("fielded_by", "f", 46, "FLD_CD"),
    ("batted_ball_type", "f", 47, "BATTEDBALL_CD"),
    ("errors", "f", 51, "ERR_CT"),
    ("batter_destination", "f", 58, "BAT_DEST_ID"),
    ("runner_on_first_destination", "f", 59, "RUN1_DEST_ID"),
    ("runner_on_second_destination", "f", 60, "RUN2_DEST_ID"),
    ("runner_on_third_destination", "f", 61, "RUN3_DEST_ID"),
    ("ends_inning", "x", 5, "INN_END_FL"),
    ("bases_before", "x", 13, "START_BASES_CD"),
    ("bases_after", "x", 14, "END_BASES_CD"),
    ("runs_on_play", "x", 45, "EVENT_RUNS_CT"),
)


def csv_column(kind: str, number: int) -> int:
    return number + (EXTENDED_OFFSET if kind == "x" else 0)


def plays_tsv_line(row: list[str]) -> str:
    """One cwevent row as a line of the plays staging file, in PLAYS order: T/F flags
    (cwevent's *_FL fields) as 1/0, empty strings as NULL (\\N). No escaping: the event
    file's records hold no tab or backslash (eventfile checks) and cwevent adds none."""
    return "\t".join(
        ("1" if row[n] == "T" else "0") if flag else (row[n] or "\\N") for n, flag in _SOURCES
    )


_SOURCES = tuple((csv_column(kind, n), header.endswith("_FL")) for _, kind, n, header in PLAYS)


# cwevent's columns the validation reads (CSV column numbers).
GAME_ID, INNING, BATTING_HOME, OUTS_BEFORE = 0, 2, 3, 4
BATTER, PITCHER, EVENT_TYPE, OUTS_ON_PLAY, EVENT_ID = 10, 14, 34, 40, 96
FIELDERS_AND_RUNNERS = tuple(range(18, 29))
RUNS_ON_PLAY = EXTENDED_OFFSET + 45
UNKNOWN_EVENT = 0  # EVENT_CD 0: cwevent could not read the play

# cwgame -f 0-9,33-35,85 -x 95
GAME_COLUMNS = [
    "GAME_ID",
    "GAME_DT",
    "GAME_CT",
    "GAME_DY",
    "START_GAME_TM",
    "DH_FL",
    "DAYNIGHT_PARK_CD",
    "AWAY_TEAM_ID",
    "HOME_TEAM_ID",
    "PARK_ID",
    "INN_CT",
    "AWAY_SCORE_CT",
    "HOME_SCORE_CT",
    "GAME_TYPE_TX",
    "SCHED_INN_CT",
]
