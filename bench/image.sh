#!/usr/bin/env bash
# bench/image.sh — uweb-image on real documentation trees from Debian,
# side by side with what else stores such a tree:
#   size:  uweb-image (default options) beside mksquashfs (zstd level 19,
#          128 KiB and 1 MiB blocks), mkfs.erofs -zlz4hc, a Git pack as
#          docteur stores it (git gc --aggressive: pack + idx) and
#          tar | zstd -19 --long (solid, no random access: the floor);
#   time:  the build of each;
#   RAM:   the reader's heap after mount and after 10,000 random reads
#          (bench/image_bench.c, mallinfo2);
#   HTTP:  10,000 random whole-file GETs on one keep-alive connection,
#          p50/p99, build/apps/site on the image beside nginx on the folder.
#
#   bench/image.sh                      postgresql-doc-15 and python-django-doc
#   UWEB_BENCH_TREES="rust" bench/image.sh     rust-doc (large: minutes)
#   UWEB_BENCH_TREES="pg django rust"  every tree
#   UWEB_IMAGE_OPTS=--solid-size=262144  other options for uweb-image build
#
# Trees are copied with links followed (Django's points into
# /usr/share/javascript), names starting with a dot left out, so every
# tool stores the same files.  Figures go in BENCHMARKS.md.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${UWEB_BUILD:-$ROOT/build}
TOOL=$B/tools/uweb-image
SITE=$B/apps/site
W=$B/bench-image
N=${UWEB_BENCH_READS:-10000}
trees=${UWEB_BENCH_TREES:-pg django}
for p in "$TOOL" "$SITE"; do [ -x "$p" ] || { echo "bench/image.sh: $p is not built (make)"; exit 1; }; done
for c in mksquashfs mkfs.erofs git zstd nginx; do
  command -v "$c" >/dev/null || { echo "bench/image.sh: $c is missing (squashfs-tools erofs-utils git zstd nginx-light)"; exit 1; }
done
mkdir -p "$W"
${CC:-gcc} -std=gnu11 -O2 -D_GNU_SOURCE -I"$ROOT/include" -o "$W/image_bench" "$ROOT/bench/image_bench.c" \
  "$B/libuweb.a" -lzstd -lcrypto || exit 1

src_of() {
  case $1 in
    pg) echo /usr/share/doc/postgresql-doc-15/html ;;
    django) echo /usr/share/doc/python-django-doc/html ;;
    rust) echo /usr/share/doc/rust-doc/html ;;
  esac
}
now() { date +%s.%N; }
size() { stat -c %s "$@" | awk '{s += $1} END {print s}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f%%", (a / b - 1) * 100}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

for t in $trees; do
  src=$(src_of "$t")
  [ -d "$src" ] || { echo "== $t: $src is missing (apt-get install the doc package)"; continue; }
  tree=$W/$t
  rm -rf "$tree" && cp -rL "$src" "$tree" && find "$tree" -name '.*' -prune -exec rm -rf {} +
  files=$(find "$tree" -type f | wc -l)
  bytes=$(du -sb "$tree" | cut -f1)
  echo "== $t: $src, $files files, $bytes bytes"
  declare -A S T
  s=$(now); "$TOOL" build "$tree" -o "$W/$t.img" -q ${UWEB_IMAGE_OPTS:-} || exit 1; T[uweb]=$(awk -v a="$s" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')
  S[uweb]=$(size "$W/$t.img")
  for bs in 128K 1M; do
    s=$(now)
    mksquashfs "$tree" "$W/$t-$bs.sqfs" -comp zstd -Xcompression-level 19 -b "$bs" -noappend -quiet -no-progress >/dev/null
    T[sqfs$bs]=$(awk -v a="$s" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')
    S[sqfs$bs]=$(size "$W/$t-$bs.sqfs")
  done
  s=$(now); mkfs.erofs -zlz4hc "$W/$t.erofs" "$tree" >/dev/null 2>&1
  T[erofs]=$(awk -v a="$s" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'); S[erofs]=$(size "$W/$t.erofs")
  rm -rf "$W/$t.git" && s=$(now)
  git init -q "$W/$t.git" && git -C "$W/$t.git" --work-tree="$tree" add -A &&
    git -C "$W/$t.git" --work-tree="$tree" -c user.name=b -c user.email=b@b commit -q -m tree &&
    git -C "$W/$t.git" gc -q --aggressive
  T[git]=$(awk -v a="$s" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'); S[git]=$(size "$W/$t.git"/.git/objects/pack/*.{pack,idx})
  s=$(now); tar -cf - -C "$tree" . | zstd -19 --long -T1 -q -c >"$W/$t.tar.zst"
  T[tarzst]=$(awk -v a="$s" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'); S[tarzst]=$(size "$W/$t.tar.zst")
  printf '  %-28s %12s %8s %9s\n' "store" "bytes" "build s" "uweb vs"
  for k in uweb sqfs128K sqfs1M erofs git tarzst; do
    name=$k
    case $k in
      uweb) name="uweb-image" ;; sqfs128K) name="squashfs zstd-19 128 KiB" ;; sqfs1M) name="squashfs zstd-19 1 MiB" ;;
      erofs) name="erofs lz4hc" ;; git) name="git pack+idx (gc --aggressive)" ;; tarzst) name="tar | zstd -19 --long" ;;
    esac
    printf '  %-28s %12s %8s %9s\n' "$name" "${S[$k]}" "${T[$k]}" "$([ "$k" = uweb ] && echo - || pct "${S[uweb]}" "${S[$k]}")"
  done
  echo "  goals: smaller than squashfs 1 MiB: $([ "${S[uweb]}" -lt "${S[sqfs1M]}" ] && echo yes || echo NO)," \
       "than the Git pack: $([ "${S[uweb]}" -lt "${S[git]}" ] && echo yes || echo NO)," \
       "within 15% of tar.zst: $(awk -v a="${S[uweb]}" -v b="${S[tarzst]}" 'BEGIN{print (a <= b * 1.15) ? "yes" : "NO"}')"
  "$W/image_bench" ram "$W/$t.img" "$N" | awk '{printf "  %s %s\n", $1, $2}'
  # HTTP: site on the image, nginx on the folder, the same random paths.
  port=$(free_port)
  "$SITE" --image="$W/$t.img" --port="$port" --quiet >"$W/site.log" 2>&1 &
  sp=$!
  wait_port "$port" && echo "  site:  $("$W/image_bench" http "$W/$t.img" "$port" "$N" | tr '\n' ' ')  rss $(awk '/VmRSS/ {print $2 " kB"}' /proc/$sp/status)"
  kill "$sp"; wait "$sp" 2>/dev/null
  nport=$(free_port)
  cat >"$W/nginx.conf" <<EOF
worker_processes 1; daemon off; error_log stderr; pid $W/nginx.pid;
events {}
http { access_log off; keepalive_requests 1000000; include /etc/nginx/mime.types; server { listen 127.0.0.1:$nport; root $tree; } }
EOF
  nginx -p "$W" -c "$W/nginx.conf" 2>"$W/nginx.log" &
  np=$!
  wait_port "$nport" && echo "  nginx: $("$W/image_bench" http "$W/$t.img" "$nport" "$N" | tr '\n' ' ')"
  kill "$np"; wait "$np" 2>/dev/null
  unset S T
done
