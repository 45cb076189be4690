#!/usr/bin/env bash
# System packages the tests need: Debian's Chromium (to open the HTML maps headless, with
# the network off), Noto CJK fonts (so Chinese renders in its screenshots) and LibreOffice
# Calc (to recalculate the live formulas of finance.xlsx and compare them with Python's),
# poppler-utils (pdftoppm renders the atlas PDF's pages to PNG);
# then PostgreSQL and PostGIS (scripts/postgres.sh install), whose throw-away server the
# database tests start and stop themselves.
# Installs them with apt-get when missing; needs root (as CI is) or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
here=$(dirname "$0")
if [ ${#need[@]} -eq 0 ]; then bash "$here/postgres.sh" install; exit 0; fi
if [ "$(id -u)" -eq 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get)
else
  echo "The tests need: ${need[*]} (Debian packages). Install them as root: apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
bash "$here/postgres.sh" install
