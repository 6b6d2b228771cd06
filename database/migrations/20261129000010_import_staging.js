'use strict';
// Staging tables for the Retrosheet import (troposphere_src/retrosheet_importer): a season is
// loaded here with LOAD DATA LOCAL INFILE, checked, and moved into the live tables in one
// transaction, so readers see the old season or the new one, never a mix. Same columns as the
// live tables (CREATE TABLE ... LIKE), but only the primary key: no secondary indexes and no
// foreign keys to maintain while loading. staging_games has no import_run_id (set on the move).

const STAGED = {
  games: [
    'games_game_date_index',
    'games_home_team_index',
    'games_visiting_team_index',
    'games_import_run_id_index',
  ],
  plays: ['plays_batter_id_index', 'plays_pitcher_id_index'],
  substitutions: ['substitutions_player_id_index'],
  comments: [],
};

exports.up = async function up(knex) {
  for (const [table, indexes] of Object.entries(STAGED)) {
    await knex.raw('CREATE TABLE ?? LIKE ??', [`staging_${table}`, table]);
    for (const index of indexes) {
      await knex.raw('ALTER TABLE ?? DROP INDEX ??', [`staging_${table}`, index]);
    }
  }
  await knex.raw('ALTER TABLE staging_games DROP COLUMN import_run_id');
};

exports.down = async function down(knex) {
  for (const table of Object.keys(STAGED)) {
    await knex.schema.dropTable(`staging_${table}`);
  }
};
