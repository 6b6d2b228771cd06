"""What the job's database user needs: SELECT, INSERT, UPDATE and DELETE on the schema (the
app role's, and less than the migration user's). LOAD DATA LOCAL needs INSERT, not FILE; a
failed run's end, written after killing the run's own session, needs no more either."""

from __future__ import annotations

import pytest

from retrosheet_importer.database import from_url
from retrosheet_importer.importer import run_import
from retrosheet_importer.problems import Rejected
from tests.importer.helpers import run_row, small_release

USER, PASSWORD = "importer_dml_only", "importer-pw"


def test_the_import_needs_only_dml(server, fresh_settings, tmp_path):
    database = fresh_settings.database
    server.query(f"DROP USER IF EXISTS {USER}")
    server.query(f"CREATE USER {USER}@'%%' IDENTIFIED BY %s", (PASSWORD,))
    server.query(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO {USER}@'%'")
    settings = from_url(server.url(database, USER, PASSWORD))
    release = small_release(tmp_path)
    first = run_import(str(release), settings, lambda _: None)
    assert first.counts.games == 3
    # Over a loaded season too (the last run marked failed so it is not skipped): the deletes.
    server.query("UPDATE import_runs SET status = 'failed'", database=database)
    again = run_import(str(release), settings, lambda _: None)
    assert again.counts.plays == first.counts.plays
    assert server.query("SELECT COUNT(*) FROM plays", database=database) == [(first.counts.plays,)]
    # A run that fails once it holds the locks: its session killed, its end recorded.
    bad = small_release(tmp_path / "bad", edit=lambda games: [*games, games[0]])
    with pytest.raises(Rejected):
        run_import(str(bad), settings, lambda _: None)
    assert run_row(settings)["status"] == "failed"
