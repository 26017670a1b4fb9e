#!/bin/bash
# Creates or repairs the service schemas in the compose Oracle. Mounted as
# /container-entrypoint-startdb.d, so gvenzl/oracle-free runs it (as the oracle OS user, after the
# database opens) on EVERY start, not only the first: a first boot that failed half-way is completed by
# the next start instead of leaving the database unhealthy until its volume is removed. It is therefore
# idempotent: it asks which schemas exist, creates the missing ones, and (re)applies password, quota and
# grants to all of them, so a second run changes nothing and a changed password in .env takes effect.
#
# One schema per service, so each service owns its tables and nothing else: USERS_SVC, COURSES_SVC,
# MEDIA_SVC (media's replicas and its worker). USERS_TEST, COURSES_TEST and MEDIA_TEST are for `npm run test:oracle` (each service's repository suite runs its
# migrations in its own schema: the two services' migration histories must not share a table).
# The services' migrations create the tables; this creates the accounts and their privileges:
#   CREATE SESSION/TABLE/SEQUENCE/VIEW/TRIGGER/PROCEDURE  what the migrations create
#   EXECUTE ON SYS.DBMS_LOCK                              the migration lock (packages/common/src/oracle.ts)
# Passwords come from the container's environment (docker-compose.yml, overridable in .env).
set -euo pipefail

PDB="${ORACLE_DATABASE:-FREEPDB1}"
# The compose health check waits for this file. It is removed first and written last, so it says that
# this start's run completed (the PDB opens before this script runs: "open" alone is not "ready").
MARKER="${ORACLE_BASE:-/opt/oracle}/oradata/dream-schemas.ok"
rm -f "${MARKER}"

SCHEMAS=(USERS_SVC COURSES_SVC MEDIA_SVC USERS_TEST COURSES_TEST MEDIA_TEST)
declare -A PASSWORD=(
  [USERS_SVC]="${USERS_DB_PASSWORD:?USERS_DB_PASSWORD is required}"
  [COURSES_SVC]="${COURSES_DB_PASSWORD:?COURSES_DB_PASSWORD is required}"
  [MEDIA_SVC]="${MEDIA_DB_PASSWORD:?MEDIA_DB_PASSWORD is required}"
  [USERS_TEST]="${TEST_DB_PASSWORD:?TEST_DB_PASSWORD is required}"
  [COURSES_TEST]="${TEST_DB_PASSWORD}"
  [MEDIA_TEST]="${TEST_DB_PASSWORD}"
)
for schema in "${SCHEMAS[@]}"; do
  # The password is written inside "…" in the SQL below; a double quote would end it early.
  if [[ "${PASSWORD[$schema]}" == *'"'* ]]; then
    echo "dream: the password for ${schema} contains a double quote (\"), which Oracle passwords cannot" >&2
    exit 1
  fi
done

sql() {
  sqlplus -s / as sysdba <<SQL
WHENEVER SQLERROR EXIT SQL.SQLCODE
SET HEADING OFF FEEDBACK OFF PAGESIZE 0 VERIFY OFF
ALTER SESSION SET CONTAINER = ${PDB};
$1
EXIT
SQL
}

in_list="$(printf "'%s'," "${SCHEMAS[@]}")"
existing="$(sql "SELECT username FROM dba_users WHERE username IN (${in_list%,});")"

statements=""
for schema in "${SCHEMAS[@]}"; do
  if grep -qx "[[:space:]]*${schema}[[:space:]]*" <<<"${existing}"; then
    echo "dream: schema ${schema} exists in ${PDB}: updating password, quota and grants"
    statements+="ALTER USER ${schema} IDENTIFIED BY \"${PASSWORD[$schema]}\" ACCOUNT UNLOCK;"$'\n'
  else
    echo "dream: creating schema ${schema} in ${PDB}"
    statements+="CREATE USER ${schema} IDENTIFIED BY \"${PASSWORD[$schema]}\" DEFAULT TABLESPACE USERS;"$'\n'
  fi
  statements+="ALTER USER ${schema} QUOTA UNLIMITED ON USERS;"$'\n'
  statements+="GRANT CREATE SESSION, CREATE TABLE, CREATE SEQUENCE, CREATE VIEW, CREATE TRIGGER, CREATE PROCEDURE TO ${schema};"$'\n'
  statements+="GRANT EXECUTE ON SYS.DBMS_LOCK TO ${schema};"$'\n'
done
sql "${statements}" >/dev/null

touch "${MARKER}"
echo "dream: schemas ready"
