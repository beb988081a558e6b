#!/usr/bin/env bash
# Debian packages the test suite needs: GDAL's command-line tools (ogrinfo/ogr2ogr read the
# service as a real OGC API client), and Debian's chromium with a font for the widget's browser
# tests (driven by Playwright; no browser is ever downloaded). Node.js and npm build the widget.
# Installs only what is missing; needs root or sudo.
set -euo pipefail
missing=()
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
