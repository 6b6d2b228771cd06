'use strict';
// Knex configuration for the migrations: `npx knex migrate:latest` (see docs/schema.md).
// The connection is resolved once per process, from DB_SECRET_ARN or DB_* (lib/connection.js).
const path = require('node:path');
const { connectionSettings } = require('./lib/connection');

module.exports = {
  client: 'mysql2',
  connection: () => connectionSettings(process.env),
  pool: { min: 0, max: 2 },
  migrations: {
    directory: path.join(__dirname, 'migrations'),
    tableName: 'knex_migrations',
  },
};
