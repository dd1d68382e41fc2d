#!/usr/bin/env bash
# Regenerate the single initial migration from the current db.metadata (all tables, simulators' included).
# Until the first release there is one migration; rerun this whenever a table changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

alembic() {
    # Quiet on success, the whole log on failure.
    "$PY" -m alembic -c alembic.ini "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
}

old=$(ls db/migrations/versions/0001_*.py 2>/dev/null || true)
[ -z "$old" ] || cp "$old" "$tmp/previous.py"
rm -f db/migrations/versions/0001_*.py
# A throwaway SQLite file: autogenerate compares metadata with an empty database.
DATABASE_URL="sqlite:///$tmp/empty.db" alembic revision --autogenerate --rev-id 0001 -m "initial schema"
file=$(ls db/migrations/versions/0001_*.py)
# Keep the previous file when only its "Create Date" would change, so a no-op run leaves no diff.
if [ -f "$tmp/previous.py" ] && [ "$old" = "$file" ] \
    && diff -q <(grep -v '^Create Date' "$tmp/previous.py") <(grep -v '^Create Date' "$file") >/dev/null; then
    cp "$tmp/previous.py" "$file"
fi
# Prove it: a second fresh file upgraded to head leaves nothing to generate, and downgrades to empty.
DATABASE_URL="sqlite:///$tmp/check.db" alembic upgrade head
DATABASE_URL="sqlite:///$tmp/check.db" alembic check
DATABASE_URL="sqlite:///$tmp/check.db" alembic downgrade base
echo "wrote $file ($(grep -c 'op.create_table' "$file") tables)"
