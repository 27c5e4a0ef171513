#!/bin/sh
# uweb - the uweb command (installed by `make install` from pkg/uweb.sh).
set -eu
version=@VERSION@
share=$(cd "$(dirname "$(readlink -f "$0")")/../share/uweb" 2>/dev/null && pwd || true)

usage() {
    cat <<'TEXT'
NAME
    uweb - start a project of one's own on uweb

SYNOPSIS
    uweb new NAME [DIR]
    uweb --version | --help

DESCRIPTION
    uweb new writes a small app into DIR (default: ./NAME), which must not
    exist yet:

        main.c        a route table: /hello/<seg:name> and the embedded pages
        assets/       index.html, embedded by uweb-crunch at build time
        manifest.c    the devices the app asks for as a unikernel
                      (UW_PLAT_MANIFEST: one net device "service")
        Makefile      make, make TARGET=spt, make TARGET=hvt, make run

    The Makefile builds against the installed uweb only, through
    pkg-config (modules uweb, uweb-spt, uweb-hvt); set PKG_CONFIG_PATH to
    PREFIX/lib/pkgconfig for a prefix pkg-config does not search.

    NAME is a C identifier-like name: letters, digits, '-' and '_'.

OPTIONS
    --version   print the version of uweb and exit
    --help      print this help

EXIT STATUS
    0 on success, 1 on an error (one line on stderr), 2 on bad usage.

SEE ALSO
    uweb-crunch(1), uweb-bench(1), uweb-image(1), uweb-spt(1), uweb-hvt(1),
    /usr/share/doc/uweb/README.md ("Use uweb in your own project")
TEXT
}

case "${1:-}" in
--version) echo "uweb $version"; exit 0 ;;
--help|-h) usage; exit 0 ;;
new) ;;
*) usage >&2; exit 2 ;;
esac
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: uweb new NAME [DIR]" >&2; exit 2; }
name=$2 dir=${3:-$2}
case "$name" in
''|*[!A-Za-z0-9_-]*|-*) echo "uweb: bad NAME '$name': letters, digits, - and _" >&2; exit 1 ;;
esac
[ -n "$share" ] && [ -d "$share/template" ] || { echo "uweb: no template under ${share:-PREFIX/share/uweb}" >&2; exit 1; }
[ ! -e "$dir" ] || { echo "uweb: $dir exists already" >&2; exit 1; }
mkdir -p "$dir/assets"
for f in main.c manifest.c Makefile; do
    sed "s/@NAME@/$name/g" "$share/template/$f" >"$dir/$f"
done
sed "s/@NAME@/$name/g" "$share/template/index.html" >"$dir/assets/index.html"
echo "wrote $dir: cd $dir && make && make run"
