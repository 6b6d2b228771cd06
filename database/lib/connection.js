'use strict';
// Connection settings for knex and the grants script: from a Secrets Manager secret when
// DB_SECRET_ARN is set, else (and for whatever the secret lacks) from DB_* variables.
//
// The secret has the shape RDS produces: {username, password} for the RDS-managed master
// secret; a target attachment adds host, port, engine (and dbname where the instance has one).

const DEFAULT_DATABASE = 'playback';
const DEFAULT_PORT = 3306;

async function readSecret(secretId) {
  // Loaded only when needed, so local runs do not load the AWS SDK at all.
  const {
    SecretsManagerClient,
    GetSecretValueCommand,
  } = require('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!answer.SecretString) {
    throw new Error(`secret ${secretId} has no SecretString (binary secrets are not supported)`);
  }
  let value;
  try {
    value = JSON.parse(answer.SecretString);
  } catch {
    throw new Error(`secret ${secretId} is not JSON`);
  }
  for (const key of ['username', 'password']) {
    if (typeof value[key] !== 'string' || value[key] === '') {
      throw new Error(`secret ${secretId} has no "${key}"`);
    }
  }
  return value;
}

function tlsOptions(env) {
  if (env.DB_SSL !== 'true') {
    return {};
  }
  // mysql2's "Amazon RDS" profile holds the CA certificates of RDS instances and RDS Proxy
  // in every region, so the server's certificate is verified, not just encrypted to.
  if (env.DB_SSL_CA) {
    return { ssl: { ca: require('node:fs').readFileSync(env.DB_SSL_CA, 'utf8') } };
  }
  return { ssl: 'Amazon RDS' };
}

/** The mysql2 connection settings for `env` (process.env by default). */
async function connectionSettings(env = process.env) {
  const secret = env.DB_SECRET_ARN ? await readSecret(env.DB_SECRET_ARN) : {};
  const host = secret.host || env.DB_HOST;
  const user = secret.username || env.DB_USER;
  if (!host) {
    throw new Error('no database host: set DB_HOST (or DB_SECRET_ARN to a secret with "host")');
  }
  if (!user) {
    throw new Error('no database user: set DB_USER (or DB_SECRET_ARN)');
  }
  return {
    host,
    port: Number(secret.port || env.DB_PORT || DEFAULT_PORT),
    user,
    password: env.DB_SECRET_ARN ? secret.password : env.DB_PASSWORD || '',
    database: secret.dbname || env.DB_NAME || DEFAULT_DATABASE,
    // DATETIME values are UTC in both directions.
    timezone: 'Z',
    ...tlsOptions(env),
  };
}

module.exports = { connectionSettings, readSecret, DEFAULT_DATABASE };
