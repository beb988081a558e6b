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

SAY_AS="peer setup"
# shellcheck source=bench/peer/setup-common.sh
source "$HERE/setup-common.sh"

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
