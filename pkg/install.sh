#!/bin/bash
# pkg/install.sh - `make install` / `make uninstall` (pkg/build.mk).
#
#   pkg/install.sh install   B PREFIX DESTDIR VERSION HVT_SOFT_KVM [CC]
#     (environment: GUEST_LDFLAGS_spt, GUEST_LDFLAGS_hvt, the targets' own
#     guest link flags from platform/build.mk)
#   pkg/install.sh uninstall PREFIX DESTDIR
#
# install copies what a user's own project needs into DESTDIR/PREFIX:
#   bin/              uweb (uweb new NAME), uweb-crunch, uweb-bench, uweb-image, uweb-spt, uweb-hvt
#   include/uweb/     the public headers
#   lib/libuweb.a     the unix library (the libraries it needs: pkg-config --libs uweb)
#   lib/uweb/include/ the guest libc's headers and uw_platform.h (UW_PLAT_MANIFEST)
#   lib/uweb/<t>/     per unikernel target: libuweb.a, liblwip.a, libmbedtls.a,
#                     libz.a, libuwc.a (guest libc), the start code and bindings,
#                     guest.ld, manifest.o (one net device "service")
#   lib/pkgconfig/    uweb.pc, uweb-spt.pc, uweb-hvt.pc (relocatable: ${pcfiledir})
#   share/man/man1/   a page per program, from its --help (pkg/help2man.sh)
#   share/uweb/template/  what `uweb new NAME` writes
#   share/doc/uweb/   README.md, LICENSE
# and records every file and every directory it created in
# share/uweb/installed, which uninstall reads: it removes those files,
# then those directories when they are empty (never one it did not create).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() { echo "pkg/install.sh: $*" >&2; exit 1; }

if [ "${1:-}" = uninstall ]; then
    [ $# -eq 3 ] || die "usage: uninstall PREFIX DESTDIR"
    dest="$3$2"
    list="$dest/share/uweb/installed"
    [ -f "$list" ] || { echo "nothing installed in $dest (no $list)"; exit 0; }
    # Files first, then directories deepest first.
    record=$(cat "$list")
    while IFS=' ' read -r kind path; do
        if [ "$kind" = f ]; then rm -f "$dest/$path"; fi
    done <<<"$record"
    dirs=$(sed -n 's/^d //p' <<<"$record" | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-)
    for d in $dirs; do
        rmdir --ignore-fail-on-non-empty "$dest/$d" 2>/dev/null || true
    done
    echo "uninstalled uweb from $dest"
    exit 0
fi

[ "${1:-}" = install ] && [ $# -ge 6 ] || die "usage: install B PREFIX DESTDIR VERSION HVT_SOFT_KVM [CC]"
B=$2 prefix=$3 dest="$4$3" version=$5 soft_kvm=$6 cc=${7:-gcc}
case "$prefix" in /*) ;; *) die "PREFIX must be absolute: $prefix" ;; esac
cd "$root"

created=()   # directories this run made, relative to $dest
files=()
mkd() {      # mkd DIR: make DIR (relative) and its missing parents, recording them
    local missing=() p=$1
    while [ ! -d "$dest/$p" ]; do
        missing=("$p" "${missing[@]}")
        [ "$p" = "${p%/*}" ] && break
        p=${p%/*}
    done
    [ -d "$dest" ] || mkdir -p "$dest"
    for p in "${missing[@]}"; do mkdir "$dest/$p"; created+=("$p"); done
    return 0
}
put() {      # put MODE SRC DIR [NAME]
    local mode=$1 src=$2 dir=$3 name=${4:-$(basename "$2")}
    [ -f "$src" ] || die "missing $src (run make and make TARGET=spt, TARGET=hvt first)"
    mkd "$dir"
    install -m "$mode" "$src" "$dest/$dir/$name"
    # Debug information stays in the build: libraries lose it, programs
    # their symbol tables too.
    case "$name" in
    *.a|*.o) strip --strip-debug "$dest/$dir/$name" ;;
    *) [ "$mode" = 755 ] && head -c4 "$dest/$dir/$name" | grep -q ELF && strip "$dest/$dir/$name" ;;
    esac
    files+=("$dir/$name")
}
gen() {      # gen MODE DIR NAME < content
    local mode=$1 dir=$2 name=$3
    mkd "$dir"
    cat >"$dest/$dir/$name"
    chmod "$mode" "$dest/$dir/$name"
    files+=("$dir/$name")
}

# ------------------------------------------------------------ programs
put 755 "$B/tools/uweb-crunch" bin
put 755 "$B/tools/uweb-bench" bin
put 755 "$B/tools/uweb-image" bin
put 755 "$B/uweb-spt" bin
put 755 "$B/uweb-hvt" bin
# (gen reads a file, not a pipe: a pipeline's right side is a subshell,
# whose record of files would be lost)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed "s/@VERSION@/$version/" pkg/uweb.sh >"$tmp/uweb"
gen 755 bin uweb <"$tmp/uweb"

# ------------------------------------------------------------ headers, libraries
for h in include/uweb/*.h; do put 644 "$h" include/uweb; done
put 644 "$B/libuweb.a" lib
for h in $(cd platform/libc/include && find . -name '*.h' | LC_ALL=C sort); do
    h=${h#./} sub=lib/uweb/include
    [ "${h%/*}" = "$h" ] || sub=$sub/${h%/*}
    put 644 "platform/libc/include/$h" "$sub"
done
put 644 platform/include/uw_platform.h lib/uweb/include

gcc_include=$("$cc" -print-file-name=include)
libgcc=$("$cc" -print-libgcc-file-name)
guest_cflags="-nostdinc -isystem $gcc_include -isystem \${prefix}/lib/uweb/include -I\${includedir} \
-ffreestanding -fbuiltin -fno-pic -fno-pie -fstack-protector-strong -mstack-protector-guard=global \
-fstack-clash-protection -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -fno-common"
guest_ldflags="-nostdlib -static -no-pie -Wl,-T,\${libdir}/guest.ld -Wl,--gc-sections \
-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--build-id=none"
for t in spt hvt; do
    d=lib/uweb/$t
    put 644 "$B/$t/libuweb.a" "$d"
    put 644 "$B/$t/lwip/liblwip.a" "$d"
    put 644 "$B/$t/mbedtls/libmbedtls.a" "$d"
    put 644 "$B/$t/zlib/libz.a" "$d"
    put 644 "$B/$t/libuwc.a" "$d"
    put 644 "$B/$t/platform/lwip/manifest.o" "$d"
    put 644 platform/guest/guest.ld "$d"
    start=""
    if [ $t = hvt ]; then
        put 644 "$B/hvt/platform/hvt/start.o" "$d"
        start="\${libdir}/start.o "
        extra="-mno-red-zone"
        [ "$soft_kvm" = 1 ] && extra="$extra -mgeneral-regs-only"
        desc="uweb as an hvt unikernel (a KVM guest run by uweb-hvt)"
    else
        extra=""
        desc="uweb as an spt unikernel (a seccomp-locked process run by uweb-spt)"
    fi
    put 644 "$B/$t/platform/$t/bindings.o" "$d"
    ldflags_t=GUEST_LDFLAGS_$t
    [ -n "${!ldflags_t:-}" ] || die "$ldflags_t is not set (make install sets it)"
    gen 644 lib/pkgconfig "uweb-$t.pc" <<EOF
# Compile every source of the guest with --cflags and link with
#   \$(CC) -o APP.$t OBJECTS \$(pkg-config --libs uweb-$t)
# OBJECTS declare the guest's devices (UW_PLAT_MANIFEST in <uw_platform.h>)
# or include \$(pkg-config --variable=manifest uweb-$t): one net device "service".
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/lib/uweb/$t
bindir=\${prefix}/bin
manifest=\${libdir}/manifest.o
tender=\${bindir}/uweb-$t

Name: uweb-$t
Description: $desc
Version: $version
Cflags: $guest_cflags${extra:+ $extra}
Libs: $guest_ldflags ${!ldflags_t} $start\${libdir}/bindings.o -Wl,--start-group \${libdir}/libuweb.a \${libdir}/liblwip.a \${libdir}/libmbedtls.a \${libdir}/libz.a \${libdir}/libuwc.a $libgcc -Wl,--end-group
EOF
done
gen 644 lib/pkgconfig uweb.pc <<EOF
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/lib
bindir=\${prefix}/bin

Name: uweb
Description: uweb, a web stack in C, as a Linux process (the unix target)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -luweb $(cat "$B/libuweb.libs")
EOF

# ------------------------------------------------------------ man pages, template, docs
for p in uweb uweb-crunch uweb-bench uweb-image uweb-spt uweb-hvt; do
    "$dest/bin/$p" --help >"$tmp/$p.help" 2>&1 || die "$p --help failed"
    pkg/help2man.sh "$p" "$version" <"$tmp/$p.help" | gzip -9n >"$tmp/$p.1.gz"
    gen 644 share/man/man1 "$p.1.gz" <"$tmp/$p.1.gz"
done
for f in pkg/template/*; do put 644 "$f" share/uweb/template; done
put 644 README.md share/doc/uweb
put 644 LICENSE share/doc/uweb

# ------------------------------------------------------------ the record
mkd share/uweb
{
    for f in "${files[@]}"; do echo "f $f"; done
    echo "f share/uweb/installed"
    for d in "${created[@]}"; do echo "d $d"; done
} >"$dest/share/uweb/installed"
echo "installed uweb $version in $dest (${#files[@]} files)"
