'use strict';
// The replay schema: teams, players and rosters, games with their provenance, and the plays,
// substitutions and comments a replay interleaves, loaded by the import job (game-data stack).
//
// Retrosheet ids: games are 12 characters (NYA202303300), players 8 (judga001), teams 3.
// Flags that cwevent prints as T/F are BOOLEAN (TINYINT(1)); empty strings are NULL. The
// importer (jobs/retrosheet_importer) converts T/F to 1/0 and empty strings to
// NULL while it parses, and loads these columns with LOAD DATA LOCAL INFILE.
//
// Plays come from `cwevent -n -f 0-96 -x 0-66` (the golden slice's 164 columns). Each column's
// comment names its source: "f N" is standard field N (CSV column N), "x N" is extended field
// N (CSV column 97 + N).

function innodb(table) {
  table.engine('InnoDB');
  table.charset('utf8mb4');
}

exports.up = async function up(knex) {
  // One row per team and season (TEAMyyyy): names and leagues change over the years.
  await knex.schema.createTable('teams', (table) => {
    innodb(table);
    table.smallint('season').unsigned().notNullable();
    table.string('team_id', 3).notNullable();
    table.string('league', 1).notNullable().comment('A or N');
    table.string('city', 64).notNullable();
    table.string('nickname', 64).notNullable();
    table.primary(['season', 'team_id']);
  });

  await knex.schema.createTable('players', (table) => {
    innodb(table);
    table.string('player_id', 8).notNullable().primary();
    table.string('last_name', 64).notNullable();
    table.string('first_name', 64).notNullable();
    table.index(['last_name', 'first_name'], 'players_name_index');
  });

  // One row per player, team and season (the .ROS files); hands can change between seasons.
  await knex.schema.createTable('roster_entries', (table) => {
    innodb(table);
    table.smallint('season').unsigned().notNullable();
    table.string('team_id', 3).notNullable();
    table.string('player_id', 8).notNullable();
    table.string('bats', 1).notNullable().comment('L, R or B');
    table.string('throws', 1).notNullable().comment('L or R');
    table.string('position', 3).notNullable();
    table.primary(['season', 'team_id', 'player_id']);
    table.index(['player_id'], 'roster_entries_player_id_index');
    table.foreign(['season', 'team_id']).references(['season', 'team_id']).inTable('teams');
    table.foreign('player_id').references('player_id').inTable('players');
  });

  await knex.schema.createTable('import_runs', (table) => {
    innodb(table);
    table.bigIncrements('id');
    table.smallint('season').unsigned().notNullable();
    table.string('status', 16).notNullable().defaultTo('running');
    table.datetime('started_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    table.datetime('finished_at', { precision: 3 }).nullable();
    table.json('files').nullable().comment('[{"name", "sha256", "bytes"}] of every file read');
    table.integer('games_loaded').unsigned().notNullable().defaultTo(0);
    table.integer('plays_loaded').unsigned().notNullable().defaultTo(0);
    table.integer('substitutions_loaded').unsigned().notNullable().defaultTo(0);
    table.integer('comments_loaded').unsigned().notNullable().defaultTo(0);
    table.text('error_report', 'mediumtext').nullable();
    table.index(['season', 'started_at'], 'import_runs_season_index');
    // A table-level CHECK: MariaDB refuses a named CHECK on the column itself.
    table.check(
      '?? in (?, ?, ?)',
      ['status', 'running', 'succeeded', 'failed'],
      'import_runs_status_check'
    );
  });

  await knex.schema.createTable('games', (table) => {
    innodb(table);
    table.string('game_id', 12).notNullable().primary();
    table.smallint('season').unsigned().notNullable();
    table.date('game_date').notNullable();
    table.tinyint('game_number').unsigned().notNullable().comment('0 single, 1-2 doubleheader');
    table.string('visiting_team_id', 3).notNullable();
    table.string('home_team_id', 3).notNullable();
    table.string('site_id', 5).nullable();
    table.string('game_type', 16).nullable().comment('info,gametype: regular, ...');
    table.string('start_time', 8).nullable().comment('info,starttime as written, local time');
    table.string('day_night', 5).nullable();
    table.boolean('uses_dh').nullable();
    table.tinyint('scheduled_innings').unsigned().nullable();
    table.smallint('play_count').unsigned().notNullable().comment('event_id runs 1..play_count');
    // Provenance: which file, exactly which bytes, and which run loaded this game.
    table.string('source_file', 64).notNullable().comment('e.g. 2023NYA.EVA');
    table.string('source_sha256', 64).notNullable().comment('SHA-256 (hex) of source_file');
    table.bigInteger('import_run_id').unsigned().notNullable();
    table.index(['game_date'], 'games_game_date_index');
    // A team's games in a season by date; they also serve the foreign keys to teams.
    table.index(['season', 'home_team_id', 'game_date'], 'games_home_team_index');
    table.index(['season', 'visiting_team_id', 'game_date'], 'games_visiting_team_index');
    table.index(['import_run_id'], 'games_import_run_id_index');
    table.foreign(['season', 'home_team_id']).references(['season', 'team_id']).inTable('teams');
    table
      .foreign(['season', 'visiting_team_id'])
      .references(['season', 'team_id'])
      .inTable('teams');
    table.foreign('import_run_id').references('id').inTable('import_runs');
  });

  // One row per play; a game's plays in order, and a page after an event, are ranges of the
  // primary key. Deleting a game (to load it again) deletes its plays.
  await knex.schema.createTable('plays', (table) => {
    innodb(table);
    table.string('game_id', 12).notNullable(); // f 0 GAME_ID
    table.smallint('event_id').unsigned().notNullable(); // f 96 EVENT_ID, 1..N per game
    table.tinyint('inning').unsigned().notNullable(); // f 2 INN_CT
    table.boolean('batting_team_home').notNullable(); // f 3 BAT_HOME_ID (0 visitors bat)
    table.string('batting_team_id', 3).notNullable(); // x 1 BAT_TEAM_ID
    table.tinyint('outs_before').unsigned().notNullable(); // f 4 OUTS_CT
    table.tinyint('balls').unsigned().notNullable(); // f 5 BALLS_CT
    table.tinyint('strikes').unsigned().notNullable(); // f 6 STRIKES_CT
    table.string('pitch_sequence', 64).nullable(); // f 7 PITCH_SEQ_TX
    table.smallint('visiting_score_before').unsigned().notNullable(); // f 8 AWAY_SCORE_CT
    table.smallint('home_score_before').unsigned().notNullable(); // f 9 HOME_SCORE_CT
    table.string('batter_id', 8).notNullable(); // f 10 BAT_ID
    table.string('batter_hand', 1).nullable(); // f 11 BAT_HAND_CD
    table.string('pitcher_id', 8).notNullable(); // f 14 PIT_ID
    table.string('pitcher_hand', 1).nullable(); // f 15 PIT_HAND_CD
    table.string('catcher_id', 8).nullable(); // f 18 POS2_FLD_ID
    table.string('first_baseman_id', 8).nullable(); // f 19 POS3_FLD_ID
    table.string('second_baseman_id', 8).nullable(); // f 20 POS4_FLD_ID
    table.string('third_baseman_id', 8).nullable(); // f 21 POS5_FLD_ID
    table.string('shortstop_id', 8).nullable(); // f 22 POS6_FLD_ID
    table.string('left_fielder_id', 8).nullable(); // f 23 POS7_FLD_ID
    table.string('center_fielder_id', 8).nullable(); // f 24 POS8_FLD_ID
    table.string('right_fielder_id', 8).nullable(); // f 25 POS9_FLD_ID
    table.string('runner_on_first_id', 8).nullable(); // f 26 BASE1_RUN_ID, before the play
    table.string('runner_on_second_id', 8).nullable(); // f 27 BASE2_RUN_ID
    table.string('runner_on_third_id', 8).nullable(); // f 28 BASE3_RUN_ID
    table.string('event_text', 255).notNullable(); // f 29 EVENT_TX
    table.tinyint('batter_fielding_position').unsigned().notNullable(); // f 32 BAT_FLD_CD
    table.tinyint('batter_lineup_position').unsigned().notNullable(); // f 33 BAT_LINEUP_ID
    table.tinyint('event_type').unsigned().notNullable(); // f 34 EVENT_CD
    table.boolean('is_batter_event').notNullable(); // f 35 BAT_EVENT_FL
    table.boolean('is_at_bat').notNullable(); // f 36 AB_FL
    table.tinyint('hit_value').unsigned().notNullable(); // f 37 H_CD, 0 no hit .. 4 home run
    table.tinyint('outs_on_play').unsigned().notNullable(); // f 40 EVENT_OUTS_CT
    table.tinyint('rbi').unsigned().notNullable(); // f 43 RBI_CT
    table.tinyint('fielded_by').unsigned().notNullable(); // f 46 FLD_CD, 0 nobody
    table.string('batted_ball_type', 1).nullable(); // f 47 BATTEDBALL_CD: G, L, F, P
    table.tinyint('errors').unsigned().notNullable(); // f 51 ERR_CT
    table.tinyint('batter_destination').unsigned().notNullable(); // f 58 BAT_DEST_ID
    table.tinyint('runner_on_first_destination').unsigned().notNullable(); // f 59 RUN1_DEST_ID
    table.tinyint('runner_on_second_destination').unsigned().notNullable(); // f 60 RUN2_DEST_ID
    table.tinyint('runner_on_third_destination').unsigned().notNullable(); // f 61 RUN3_DEST_ID
    table.boolean('ends_inning').notNullable(); // x 5 INN_END_FL
    table.tinyint('bases_before').unsigned().notNullable(); // x 13 START_BASES_CD, 1+2+4
    table.tinyint('bases_after').unsigned().notNullable(); // x 14 END_BASES_CD
    table.tinyint('runs_on_play').unsigned().notNullable(); // x 45 EVENT_RUNS_CT
    table.primary(['game_id', 'event_id']);
    table.index(['batter_id'], 'plays_batter_id_index');
    table.index(['pitcher_id'], 'plays_pitcher_id_index');
    table.foreign('game_id').references('game_id').inTable('games').onDelete('CASCADE');
    table.foreign('batter_id').references('player_id').inTable('players');
    table.foreign('pitcher_id').references('player_id').inTable('players');
  });

  // Substitutions (cwsub) and comments (cwcomment) are placed in a replay by event_id, the
  // play they come with, and ordered by seq among several at the same place. They are not
  // foreign keys to plays: one can come after a game's last play.
  await knex.schema.createTable('substitutions', (table) => {
    innodb(table);
    table.string('game_id', 12).notNullable();
    table.smallint('event_id').unsigned().notNullable();
    table.tinyint('seq').unsigned().notNullable();
    table.string('player_id', 8).notNullable(); // SUB_ID
    table.string('player_name', 64).notNullable(); // the name on the event file's sub line
    table.boolean('team_home').notNullable(); // SUB_HOME_ID (0 visitors)
    table.tinyint('batting_order').unsigned().notNullable(); // SUB_LINEUP_ID, 0 not batting
    table.tinyint('fielding_position').unsigned().notNullable(); // SUB_FLD_CD, 11 PH, 12 PR
    table.string('removed_player_id', 8).nullable(); // REMOVED_ID
    table.primary(['game_id', 'event_id', 'seq']);
    table.index(['player_id'], 'substitutions_player_id_index');
    table.foreign('game_id').references('game_id').inTable('games').onDelete('CASCADE');
    table.foreign('player_id').references('player_id').inTable('players');
  });

  await knex.schema.createTable('comments', (table) => {
    innodb(table);
    table.string('game_id', 12).notNullable();
    table.smallint('event_id').unsigned().notNullable();
    table.tinyint('seq').unsigned().notNullable();
    table.text('comment_text').notNullable();
    table.primary(['game_id', 'event_id', 'seq']);
    table.foreign('game_id').references('game_id').inTable('games').onDelete('CASCADE');
  });
};

exports.down = async function down(knex) {
  for (const name of [
    'comments',
    'substitutions',
    'plays',
    'games',
    'import_runs',
    'roster_entries',
    'players',
    'teams',
  ]) {
    await knex.schema.dropTable(name);
  }
};
