#!/bin/sh
# The database step of every release (`playback-infra migrate`, the migration task of the jobs
# image): first the schema and the three users with their grants, as the master user at the
# instance (RDS's master secret has no host; the proxy signs in only the app user), then the
# Knex migrations as the migration user. Both steps are idempotent, so a fresh environment and
# an old one take the same path. Locally, without the secret ARNs, both read DB_HOST, DB_USER...
set -eu
cd "$(dirname "$0")/.."
DB_SECRET_ARN="${DB_MASTER_SECRET_ARN:-}" DB_HOST="${DB_INSTANCE_HOST:-${DB_HOST:-}}" \
  node scripts/grant-users.js
DB_SECRET_ARN="${DB_MIGRATION_SECRET_ARN:-}" npx knex migrate:latest
