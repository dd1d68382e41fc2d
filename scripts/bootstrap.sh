#!/usr/bin/env bash
# Make a fresh clone runnable: Debian packages for PDF rendering and Chinese fonts, .venv, the project.
# Cheap when nothing changed, so every make target runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(fonts-noto-cjk fontconfig libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)
STAMP=.venv/.pyproject.sha256

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
# Debian's own python3 can only make a venv with python3-venv installed.
if [ ! -x .venv/bin/python ] && ! python3 -c "import ensurepip" 2>/dev/null; then
    missing+=(python3-venv)
fi
if ((${#missing[@]})); then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    python3 -m venv .venv
fi

want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing the project and its dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
    echo "$want" >"$STAMP"
fi
