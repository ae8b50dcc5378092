#!/usr/bin/env bash
# Installs what the dev stack needs from the machine when it is missing: Python 3.11, Java 17 and
# Maven (the Kafka broker), and PostgreSQL's server (installed later by the launcher if absent).
# Only root may install; anyone else is told what is missing.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if ! command -v python3.11 >/dev/null 2>&1 && ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  missing+=(python3.11 python3.11-venv)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]} (install them, or run as root so this script can)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
