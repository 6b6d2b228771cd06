"""`playback-infra import-retrosheet` and `python -m retrosheet_importer` as an operator or
the jobs container runs them: progress per file and game, the report on stderr, exit codes,
and one clear line (no traceback) for bad input."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from playback_infra.cli import main
from playback_infra.paths import REPO_ROOT
from tests.importer.helpers import small_release

NYA = "2023NYA.EVA"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_import_then_nothing_to_do(server, fresh_settings, tmp_path, capsys):
    release = small_release(tmp_path)
    url = server.url(fresh_settings.database)
    assert main(["import-retrosheet", str(release), "--database-url", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{NYA}: 3 games, 233 plays, 32 substitutions, 2 comments" in out
    assert "  NYA202303300: 69 plays, 0-5" in out
    assert out[-1].startswith("loaded in ")
    assert out[-1].endswith("season 2023: 3 games, 233 plays, 32 substitutions, 2 comments")
    assert main(["import-retrosheet", str(release), "--database-url", url, "--quiet"]) == 0
    assert "season 2023: nothing to do (run 1 loaded these files)" in capsys.readouterr().out


def test_a_rejected_season_reports_on_stderr(server, fresh_settings, tmp_path, capsys):
    release = small_release(tmp_path, edit=lambda games: [*games, games[0]])
    url = server.url(fresh_settings.database)
    assert main(["import-retrosheet", str(release), "--database-url", url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "import-retrosheet: season rejected, nothing loaded (1 problem(s)):",
        f"{NYA}:487: game NYA202303300 is also at line 1",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["/no/such/release"], "no such directory or manifest: /no/such/release"),
        (["{release}", "--database-url", "postgres://u:secret@h/db"],
         "not a database URL: postgres://u:***@h/db"),
        (["{release}"], "no database: give --database-url or --database-secret-arn"),
        (["{release}", "--database-url", "mysql://u:p@127.0.0.1:{port}/playback"],
         "cannot connect to u@127.0.0.1:{port}/playback"),
        (["{release}", "--database-url", "mysql://u:p@h/db", "--tls-ca", "/no/ca.pem"],
         "no such CA bundle: /no/ca.pem"),
        (["s3://"], "not an S3 URL: s3://"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    release, port = small_release(tmp_path), _closed_port()
    if "--database-url" not in arguments and arguments != ["{release}"]:
        arguments = [*arguments, "--database-url", "mysql://u:p@h/db"]
    filled = [a.format(release=release, port=port) for a in arguments]
    assert main(["import-retrosheet", *filled]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"import-retrosheet: {message.format(port=port)}")


def test_the_jobs_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "retrosheet_importer", "/no/such/release",
         "--database-url", "mysql://u:p@127.0.0.1/db"],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT / "jobs",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "import-retrosheet: no such directory or manifest: /no/such/release\n"
    assert "Traceback" not in done.stderr


def test_quiet_prints_a_line_per_file_and_none_per_game(server, fresh_settings, tmp_path, capsys):
    release = small_release(tmp_path)
    url = server.url(fresh_settings.database)
    assert main(["import-retrosheet", str(release), "--database-url", url, "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{NYA}: 3 games, 233 plays, 32 substitutions, 2 comments" in out
    assert not [line for line in out if line.startswith("  NYA")]
