#!/usr/bin/env bash
# Installs the named Debian packages that are not installed yet.
# Usage: scripts/deps.sh PKG...
# A name that an installed package provides counts as installed: e.g. a
# nodejs from another repository that bundles npm and conflicts with
# Debian's npm package.
set -eu
provided=" $(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null \
  | sed -n 's/^ii *|//p' | tr ',' '\n' | sed 's/(.*//; s/ //g' | sort -u | tr '\n' ' ') "
missing=()
for p in "$@"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$st" == "install ok installed" || "$provided" == *" $p "* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
