#!/usr/bin/env bash
# Set up the tipg-on-PostGIS peer for the benchmark. Idempotent: re-running only does what is missing.
#
#   bash bench/peer/tipg/setup.sh
#
# 1. Debian packages (apt-get, only those missing):
#      postgresql-15-postgis-3   PostGIS 3 for Debian's PostgreSQL 15 (pulls postgresql-15 and
#                                postgresql-client-15: postgres, initdb, pg_ctl, psql)
#      python3-venv              to create the venv on Debian's python3
#    All PostgreSQL binaries are used from /usr/lib/postgresql/15/bin (the /usr/local/bin
#    postgres/initdb/pg_ctl on this machine are symlinks to those), because that is the build
#    whose share/extension dir holds postgis.control.
# 2. bench/peer/tipg/.venv on /usr/bin/python3.
# 3. pip install of the pinned versions in requirements.txt (tipg, uvicorn, ...).
# 4. Checks: tipg imports; postgres and the postgis extension files are there; versions printed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
BASE_PY=/usr/bin/python3
PG_BIN=/usr/lib/postgresql/15/bin
PG_SHARE=/usr/share/postgresql/15
APT_PKGS=(postgresql-15-postgis-3 python3-venv)

SAY_AS="tipg setup"
# shellcheck source=bench/peer/setup-common.sh
source "$HERE/../setup-common.sh"

# --- 4. checks ----------------------------------------------------------------------------
for b in postgres initdb pg_ctl psql; do
    [[ -x "$PG_BIN/$b" ]] || { say "check failed: $PG_BIN/$b missing" >&2; exit 1; }
done
CONTROL="$PG_SHARE/extension/postgis.control"
[[ -f "$CONTROL" ]] || { say "check failed: $CONTROL missing (postgis not available to $PG_BIN/postgres)" >&2; exit 1; }
POSTGIS_VERSION="$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$CONTROL")"
PG_VERSION="$("$PG_BIN/postgres" --version)"
TIPG_VERSIONS="$("$VENV/bin/python" - <<'EOF'
from importlib.metadata import version
import tipg.main  # noqa: F401  (imports the app module: settings, FastAPI, asyncpg)
print(", ".join(f"{n} {version(n)}" for n in ("tipg", "uvicorn", "fastapi", "asyncpg", "starlette")))
EOF
)" || { say "check failed: tipg does not import" >&2; exit 1; }
say "ok: $TIPG_VERSIONS; $PG_VERSION ($PG_BIN); PostGIS $POSTGIS_VERSION (extension in $PG_SHARE)"
say "done. Use from the benchmark: from bench.peer.tipg.peer import TipgPeer (see README.md)"
