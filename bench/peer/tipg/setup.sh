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

say() { printf '[tipg setup] %s\n' "$*"; }

# --- 1. Debian packages -------------------------------------------------------------------
missing=()
for p in "${APT_PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    say "apt: installing ${missing[*]}"
    # Wait for a concurrent apt/dpkg run instead of failing on its lock.
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}"
else
    say "apt: ${APT_PKGS[*]} already installed"
fi

# --- 2. venv on Debian's python3 ----------------------------------------------------------
if [[ -x "$VENV/bin/python" ]] && grep -q "^home = /usr/bin$" "$VENV/pyvenv.cfg" 2>/dev/null; then
    say "venv: $VENV exists ($("$VENV/bin/python" -V))"
else
    [[ -e "$VENV" ]] && { say "venv: $VENV is not based on $BASE_PY, recreating"; rm -rf "$VENV"; }
    say "venv: creating $VENV on $BASE_PY ($($BASE_PY -V))"
    "$BASE_PY" -m venv "$VENV"
fi

# --- 3. pinned Python packages ------------------------------------------------------------
if "$VENV/bin/python" - "$HERE/requirements.txt" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
bad = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        if version(name) != want:
            bad.append(line)
    except PackageNotFoundError:
        bad.append(line)
sys.exit(1 if bad else 0)
EOF
then
    say "pip: requirements.txt already satisfied"
else
    say "pip: installing requirements.txt"
    # pip's own noise about local find-links that do not exist here is filtered out.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
fi

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
