#!/usr/bin/env node
'use strict';
// Creates the schema and the three database users with their grants; run with the master
// user's credentials before the migrations (docs/schema.md, "The grants step").
//
// Idempotent and convergent: a second run changes nothing; a rotated password in a user's
// secret is applied; a privilege granted by hand beyond the role's list is revoked.
//
// Master connection: DB_SECRET_ARN (the RDS-managed master secret: username, password) with
// DB_HOST and DB_PORT, or DB_HOST, DB_PORT, DB_USER, DB_PASSWORD. DB_NAME is the schema
// (default "playback"); DB_SSL=true connects with TLS (lib/connection.js).
// Each user's password: DB_<ROLE>_SECRET_ARN (the user's secret: username, password), else
// DB_<ROLE>_PASSWORD. ROLE is APP, MIGRATION or REPORTING.
// DB_REQUIRE_SSL=true makes the users REQUIRE SSL (RDS's require_secure_transport already
// refuses plain connections for everyone); otherwise they are REQUIRE NONE.

const knexFactory = require('knex');
const { connectionSettings, readSecret, DEFAULT_DATABASE } = require('../lib/connection');

const HOST = '%';
const DML = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
// What Knex migrations need: tables, indexes, foreign keys (MySQL 8 checks REFERENCES on the
// parent table; MariaDB does not), and the DML to move data and keep knex_migrations.
const DDL = ['CREATE', 'ALTER', 'DROP', 'INDEX', 'REFERENCES'];

const ROLES = [
  { env: 'APP', username: 'pb_app', privileges: DML },
  { env: 'MIGRATION', username: 'pb_migrate', privileges: [...DML, ...DDL] },
  { env: 'REPORTING', username: 'pb_report', privileges: ['SELECT'] },
];

async function credentials(role, env) {
  const secretArn = env[`DB_${role.env}_SECRET_ARN`];
  if (secretArn) {
    const { username, password } = await readSecret(secretArn);
    // Secrets Manager's alternating-users rotation switches the secret between the user and
    // its clone (`<user>_clone`); either is this role's.
    if (username !== role.username && username !== `${role.username}_clone`) {
      throw new Error(`secret ${secretArn} is for "${username}", not ${role.username}`);
    }
    return { username, password };
  }
  const password = env[`DB_${role.env}_PASSWORD`];
  if (!password) {
    throw new Error(`set DB_${role.env}_SECRET_ARN or DB_${role.env}_PASSWORD`);
  }
  return { username: role.username, password };
}

/** Grants `privileges` on `database`.* to `username`@HOST and revokes any other. */
async function converge(knex, database, username, privileges) {
  await knex.raw(`GRANT ${privileges.join(', ')} ON ??.* TO ?@?`, [database, username, HOST]);
  const [rows] = await knex.raw(
    `SELECT PRIVILEGE_TYPE AS privilege FROM information_schema.SCHEMA_PRIVILEGES
     WHERE GRANTEE = ? AND TABLE_SCHEMA = ?`,
    [`'${username}'@'${HOST}'`, database]
  );
  const extra = rows.map((row) => row.privilege).filter((p) => !privileges.includes(p));
  for (const privilege of extra) {
    if (!/^[A-Z ]+$/.test(privilege)) {
      throw new Error(`unexpected privilege name ${JSON.stringify(privilege)}`);
    }
    await knex.raw(`REVOKE ${privilege} ON ??.* FROM ?@?`, [database, username, HOST]);
  }
  return extra;
}

async function grantUsers(env = process.env) {
  const settings = await connectionSettings(env);
  const database = env.DB_NAME || DEFAULT_DATABASE;
  const requireSsl = env.DB_REQUIRE_SSL === 'true' ? 'SSL' : 'NONE';
  // Read every password before changing anything, so a missing one changes nothing.
  const wanted = [];
  for (const role of ROLES) {
    wanted.push({ role, ...(await credentials(role, env)) });
  }
  // No default schema: it may not exist yet.
  const knex = knexFactory({
    client: 'mysql2',
    connection: { ...settings, database: undefined },
    pool: { min: 0, max: 1 },
  });
  try {
    // Collation: the server's default for utf8mb4 (the parameter group's on RDS).
    await knex.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [database]);
    for (const { role, username, password } of wanted) {
      await knex.raw('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [username, HOST, password]);
      await knex.raw(`ALTER USER ?@? IDENTIFIED BY ? REQUIRE ${requireSsl}`, [
        username,
        HOST,
        password,
      ]);
      // The user and, once rotation has made it, its clone hold the same grants.
      const [existing] = await knex.raw(
        'SELECT User AS name FROM mysql.user WHERE Host = ? AND User IN (?, ?) ORDER BY User',
        [HOST, role.username, `${role.username}_clone`]
      );
      for (const { name } of existing) {
        if (name !== username) {
          await knex.raw(`ALTER USER ?@? REQUIRE ${requireSsl}`, [name, HOST]);
        }
        const revoked = await converge(knex, database, name, role.privileges);
        const note = revoked.length ? `; revoked ${revoked.join(', ')}` : '';
        console.log(`${name}: ${role.privileges.join(', ')} on ${database}${note}`);
      }
    }
  } finally {
    await knex.destroy();
  }
}

if (require.main === module) {
  grantUsers().catch((error) => {
    console.error(`grant-users: ${error.message}`);
    process.exitCode = 1;
  });
}

module.exports = { grantUsers, ROLES };
