#!/bin/bash
# First start of the compose Oracle (gvenzl/oracle-free runs executable *.sh files in
# /container-entrypoint-initdb.d once, after the database opens, as the oracle OS user).
#
# One schema per service, so each service owns its tables and nothing else: USERS_SVC, COURSES_SVC.
# USERS_TEST and COURSES_TEST are for `npm run test:oracle` (each service's repository suite runs its
# migrations in its own schema: the two services' migration histories must not share a table).
# The services' migrations create the tables; this only creates the accounts.
# Passwords come from the container's environment (docker-compose.yml, overridable in .env).
set -euo pipefail

PDB="${ORACLE_DATABASE:-FREEPDB1}"

create_schema() {
  local name="$1" password="$2"
  echo "dream: creating schema ${name} in ${PDB}"
  sqlplus -s / as sysdba <<SQL
WHENEVER SQLERROR EXIT SQL.SQLCODE
ALTER SESSION SET CONTAINER = ${PDB};
CREATE USER ${name} IDENTIFIED BY "${password}" DEFAULT TABLESPACE USERS QUOTA UNLIMITED ON USERS;
GRANT CREATE SESSION, CREATE TABLE, CREATE SEQUENCE, CREATE VIEW, CREATE TRIGGER, CREATE PROCEDURE TO ${name};
EXIT
SQL
}

create_schema USERS_SVC "${USERS_DB_PASSWORD:?USERS_DB_PASSWORD is required}"
create_schema COURSES_SVC "${COURSES_DB_PASSWORD:?COURSES_DB_PASSWORD is required}"
create_schema USERS_TEST "${TEST_DB_PASSWORD:?TEST_DB_PASSWORD is required}"
create_schema COURSES_TEST "${TEST_DB_PASSWORD}"

# The compose health check waits for this file: the PDB opens before this script runs, so "open"
# alone would let the services start before their schemas exist.
touch /opt/oracle/oradata/dream-schemas.ok
echo "dream: schemas ready"
