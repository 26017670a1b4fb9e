#!/bin/sh
# Container entrypoint for every service image.
# Replicas register with discovery under an address the gateway and the other services can reach.
# Under compose that is the container's own host name (its short id, which Docker's DNS resolves on
# the project network), so `docker compose up --scale courses=4` needs no per-replica settings.
# An explicit ADVERTISE_HOST (an IP, or a name in another orchestrator) wins.
set -eu
if [ -z "${ADVERTISE_HOST:-}" ]; then
  ADVERTISE_HOST="${HOSTNAME:-$(cat /etc/hostname)}"
  export ADVERTISE_HOST
fi
exec "$@"
