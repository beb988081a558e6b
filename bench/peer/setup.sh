#!/usr/bin/env bash
# Set up the pygeoapi peer for the benchmark. Idempotent: re-running only does what is missing.
#
#   bash bench/peer/setup.sh
#
# 1. Debian packages (apt-get, only those missing):
#      gdal-bin                    ogr2ogr, used by build_gpkg.py
#      python3-gdal                GDAL's Python bindings (osgeo) for pygeoapi's OGR provider
#      python3-venv                to create the venv on Debian's python3
#      libsqlite3-mod-spatialite   SpatiaLite, for pygeoapi's SQLiteGPKG provider
# 2. bench/peer/.venv on /usr/bin/python3 (Debian's build of sqlite3 can load extensions;
#    a pyenv/python.org build often cannot).
# 3. pip install of the pinned versions in requirements.txt (pygeoapi, gunicorn, ...).
# 4. A symlink of Debian's osgeo package into the venv: the GDAL wheel on PyPI is source-only
#    and would need libgdal-dev and a compiler, while python3-gdal matches the system GDAL
#    that ogr2ogr uses. Only osgeo is linked, not all of dist-packages.
# 5. Checks: osgeo imports, sqlite3 loads mod_spatialite, pygeoapi imports.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
BASE_PY=/usr/bin/python3
APT_PKGS=(gdal-bin python3-gdal python3-venv libsqlite3-mod-spatialite)

say() { printf '[peer setup] %s\n' "$*"; }

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

# --- 4. GDAL bindings from Debian ---------------------------------------------------------
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
OSGEO_SRC=/usr/lib/python3/dist-packages/osgeo
if [[ -L "$SITE/osgeo" && "$(readlink "$SITE/osgeo")" == "$OSGEO_SRC" ]]; then
    say "osgeo: already linked into the venv"
else
    say "osgeo: linking $OSGEO_SRC into $SITE"
    rm -rf "$SITE/osgeo"
    ln -s "$OSGEO_SRC" "$SITE/osgeo"
fi

# --- 5. checks ----------------------------------------------------------------------------
# pygeoapi (and with it the pyproj wheel, which bundles its own PROJ) is imported before
# mod_spatialite is loaded, as happens in the server: loading mod_spatialite (linked to
# Debian's PROJ) first and importing pyproj afterwards aborts the interpreter.
"$VENV/bin/python" - <<'EOF' || { echo "[peer setup] check failed" >&2; exit 1; }
import sqlite3
from importlib.metadata import version

import pygeoapi  # noqa: F401
from osgeo import gdal, ogr  # noqa: F401

con = sqlite3.connect(":memory:")
con.enable_load_extension(True)
con.execute("SELECT load_extension('mod_spatialite.so')")
spatialite = con.execute("SELECT spatialite_version()").fetchone()[0]
con.close()

print(
    f"[peer setup] ok: pygeoapi {version('pygeoapi')}, Flask {version('Flask')}, "
    f"Werkzeug {version('Werkzeug')}, gunicorn {version('gunicorn')}, GDAL {gdal.__version__}, "
    f"SpatiaLite {spatialite}, SQLite {sqlite3.sqlite_version}"
)
EOF
say "ogr2ogr: $(command -v ogr2ogr) ($(ogr2ogr --version))"
say "done. Serve with: $VENV/bin/python $HERE/serve.py --gpkg PATH --port N"
