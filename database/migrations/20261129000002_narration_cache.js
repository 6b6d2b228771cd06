'use strict';
// The narration cache's table (docs/openai-integration.md, "Cache keys and TTLs"): the key is
// the SHA-256 (hex) of the canonical JSON of {model, promptVersion, gameId, eventId, style},
// the same hash as the Valkey key's. Rows do not expire by default (expires_at NULL); the
// cleanup deletes an old prompt_version's rows once the new one is live.

exports.up = async function up(knex) {
  await knex.schema.createTable('narration_cache', (table) => {
    table.engine('InnoDB');
    table.charset('utf8mb4');
    // ascii_bin: 64 bytes a key, compared byte for byte.
    table.specificType('prompt_sha256', 'char(64) character set ascii collate ascii_bin').primary();
    table.string('model', 64).notNullable();
    table.string('prompt_version', 32).notNullable();
    table.string('game_id', 12).notNullable();
    table.smallint('event_id').unsigned().notNullable();
    table.string('style', 32).notNullable();
    table.text('response_text', 'mediumtext').notNullable();
    table.integer('prompt_tokens').unsigned().notNullable();
    table.integer('completion_tokens').unsigned().notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    table.datetime('expires_at', { precision: 3 }).nullable();
    table.index(['prompt_version'], 'narration_cache_prompt_version_index');
    table.index(['expires_at'], 'narration_cache_expires_at_index');
  });
};

exports.down = async function down(knex) {
  await knex.schema.dropTable('narration_cache');
};
