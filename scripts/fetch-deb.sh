#!/usr/bin/env bash
# Fetches a Debian binary package and unpacks it into DIR (not installed).
# Usage: scripts/fetch-deb.sh PACKAGE DIR
set -eu
pkg=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if ! apt-get download "$pkg" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get download "$pkg" >/dev/null
fi
cd - >/dev/null
rm -rf "$dir"; mkdir -p "$dir"
dpkg -x "$tmp"/"$pkg"_*.deb "$dir"
echo "fetched $pkg into $dir"
