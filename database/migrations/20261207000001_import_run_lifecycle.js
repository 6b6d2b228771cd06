'use strict';
// An import run's life, as the importer (jobs/retrosheet_importer/runs.py) records it:
// - phase: the last phase the run entered (verify, waiting for the import lock, prepare, parse,
//   load, commit);
// - reason: one line on why it ended as it did (the full rejection report stays in
//   error_report);
// - connection_id: the database session that ran it (what KILL and the processlist name);
// - two more statuses: `abandoned`, a run found `running` whose importer is gone (killed, its
//   session closed), marked so by the next import or `status`; `skipped`, an import of files a
//   succeeded run had already loaded.

const STATUSES = ['running', 'succeeded', 'failed', 'abandoned', 'skipped'];
const BEFORE = ['running', 'succeeded', 'failed'];

function statusCheck(knex, statuses) {
  return knex.raw(
    `ALTER TABLE import_runs DROP CONSTRAINT import_runs_status_check,
     ADD CONSTRAINT import_runs_status_check CHECK (status IN (${statuses.map(() => '?').join(', ')}))`,
    statuses
  );
}

exports.up = async function up(knex) {
  await knex.schema.alterTable('import_runs', (table) => {
    table.string('phase', 16).nullable().comment('verify, waiting, prepare, parse, load or commit');
    table.string('reason', 255).nullable().comment('why the run ended as it did, one line');
    table.bigInteger('connection_id').unsigned().nullable().comment('CONNECTION_ID() of its session');
    table.index(['status'], 'import_runs_status_index');
  });
  await statusCheck(knex, STATUSES);
};

exports.down = async function down(knex) {
  // The older schema knows neither status: an abandoned run failed, a skipped one did nothing.
  await knex('import_runs').where('status', 'abandoned').update({ status: 'failed' });
  await knex('import_runs').where('status', 'skipped').delete();
  await statusCheck(knex, BEFORE);
  await knex.schema.alterTable('import_runs', (table) => {
    table.dropIndex(['status'], 'import_runs_status_index');
    table.dropColumn('phase');
    table.dropColumn('reason');
    table.dropColumn('connection_id');
  });
};
