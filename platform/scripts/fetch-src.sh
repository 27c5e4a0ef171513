#!/usr/bin/env bash
# Fetches and unpacks a Debian source package into DIR, with Debian's
# patches applied, using a private apt configuration under WORK (the
# host's apt sources and state are not touched).  SUITE is the release
# to take it from (default: the host's own, bookworm); the archive is the
# one the host's apt uses for its own release (its deb URI), so no mirror
# is named here.
# Usage: platform/scripts/fetch-src.sh PACKAGE DIR WORK [SUITE]
set -eu
pkg=$1 dir=$2 work=$3
host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
suite=${4:-$host_suite}
uri=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null \
      | awk -v s="$host_suite" '$1 == s { print $2; exit }')
if [ -z "$uri" ]; then
  echo "fetch-src.sh: no apt source for $host_suite on this host to take $pkg from" >&2
  exit 1
fi
mkdir -p "$work"/etc/sources.list.d "$work"/etc/preferences.d "$work"/state/lists/partial \
  "$work"/cache/archives/partial "$work"/get
work=$(cd "$work" && pwd)
echo "deb-src $uri $suite main" >"$work"/etc/sources.list
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
