#!/usr/bin/env bash
# Fetches and unpacks a Debian (bookworm) source package into DIR, with
# Debian's patches applied, using a private apt configuration under
# WORK (the host's apt sources and state are not touched).
# Usage: platform/scripts/fetch-src.sh PACKAGE DIR WORK
set -eu
pkg=$1 dir=$2 work=$3
mkdir -p "$work"/etc/sources.list.d "$work"/etc/preferences.d "$work"/state/lists/partial \
  "$work"/cache/archives/partial "$work"/get
work=$(cd "$work" && pwd)
echo "deb-src http://deb.debian.org/debian bookworm main" >"$work"/etc/sources.list
apt=(apt-get -q -o Dir::Etc::SourceList="$work"/etc/sources.list
     -o Dir::Etc::SourceParts="$work"/etc/sources.list.d
     -o Dir::Etc::PreferencesParts="$work"/etc/preferences.d
     -o Dir::State="$work"/state -o Dir::Cache="$work"/cache
     -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
if [ ! -f "$work"/state/lists/.updated ]; then
  "${apt[@]}" update >/dev/null
  touch "$work"/state/lists/.updated
fi
rm -rf "$work"/get; mkdir -p "$work"/get
(cd "$work"/get && "${apt[@]}" source --download-only "$pkg" >/dev/null)
dsc=$(ls "$work"/get/*.dsc | head -n1)
rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
dpkg-source --no-check -x "$dsc" "$dir" >/dev/null
echo "fetched source $pkg into $dir"
