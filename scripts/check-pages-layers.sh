#!/usr/bin/env bash
# dependency-cruiser cannot parse TSX with the parser it has here (swc), so the server-rendered pages
# get the one rule that concerns them checked by text: like routes, they call services, never
# db/ or the ledger directly.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -nE 'from "\.\./(db|ledger)/' src/pages/*.tsx; then
  echo "pages import db/ or ledger/ directly: call a service verb instead" >&2
  exit 1
fi
echo "pages: no db/ or ledger/ imports"
