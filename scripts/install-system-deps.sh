#!/usr/bin/env bash
# Debian packages the test rings need, by ring:
#   node  Node.js and npm: the widget's build and dynalite; GDAL's command-line tools, which
#         read the GeoPackage snapshot and the CSV/GeoJSON outputs back (the fast ring,
#         `make test`)
#   e2e   also (ogrinfo/ogr2ogr read the service as a real OGC API client there) Debian's
#         chromium with a font for the widget's browser tests (driven by
#         Playwright; no browser is ever downloaded) (`make test-e2e`)
# With no argument: everything. Installs only what is missing; needs root or sudo.
set -euo pipefail
ring="${1:-e2e}"
missing=()
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v ogr2ogr >/dev/null 2>&1 || missing+=(gdal-bin)
if [ "$ring" = "e2e" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  [ -e /usr/lib/python3/dist-packages/qgis/core/__init__.py ] || missing+=(python3-qgis)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
