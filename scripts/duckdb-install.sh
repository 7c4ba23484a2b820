#!/usr/bin/env bash
# duckdb-install.sh: install DuckDB for Node (npm @duckdb/node-api, whose
# Linux binary ships inside the package) into .cache/duckdb-node at the
# repository root (gitignored). The archive tests use it as an independent
# Parquet reader; they run this script when the package is absent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/.cache/duckdb-node
pkg=@duckdb/node-api@1.5.6-r.1
if [ -f "$dir/node_modules/@duckdb/node-api/package.json" ]; then
	exit 0
fi
command -v npm >/dev/null || { echo "duckdb-install: npm not found (Debian packages nodejs npm)" >&2; exit 3; }
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"private":true}' >package.json
npm install --no-audit --no-fund --prefix . "$pkg"
