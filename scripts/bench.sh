#!/usr/bin/env bash
# bench.sh BIN: measures rootfsd against the physical limit and reference
# tools on the same package sets, in the same run, and prints ratios.
# Mirrors come from ROOTFSD_MIRROR or host discovery, as for rootfsd itself.
set -euo pipefail
BIN=$(readlink -f "${1:-bin/rootfsd}")
work=$(mktemp -d /tmp/rootfsd-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}'; }
rss() { /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1; echo $(( $(cat "$work/rss") / 1024 )); }

echo "== resolve: ubuntu:24.04 main+universe, three pockets"
cache="$work/cache-resolve"
t0=$(now); "$BIN" --cache-dir "$cache" resolve --distro ubuntu:24.04 --pkgs ca-certificates --format json >"$work/plan.json"; t1=$(now)
cold=$(secs "$t0" "$t1")
# Physical limit: the same index files fetched in parallel with curl and
# decompressed with gzip, as rootfsd fetches them.
urls=$(python3 - "$work/plan.json" <<'PY'
import json,sys
p=json.load(open(sys.argv[1]))
for ix in p["indexes"]:
    for c in ("main","universe"):
        print(f'{ix["url"]}/dists/{ix["name"]}/{c}/binary-amd64/Packages.gz')
PY
)
t0=$(now)
for u in $urls; do (curl -sf "$u" | gzip -dc >/dev/null) & done; wait
t1=$(now); limit=$(secs "$t0" "$t1")
best=999
for i in 1 2 3 4 5; do
	t0=$(now); "$BIN" --cache-dir "$cache" resolve --distro ubuntu:24.04 --pkgs ca-certificates -q >/dev/null; t1=$(now)
	w=$(secs "$t0" "$t1"); best=$(awk -v a="$w" -v b="$best" 'BEGIN{print (a<b)?a:b}')
done
t0=$(now); "$BIN" --cache-dir "$cache" --offline resolve --distro ubuntu:24.04 --pkgs ca-certificates -q >/dev/null; t1=$(now)
offline=$(secs "$t0" "$t1")
peak=$(rss "$BIN" --cache-dir "$work/cache-rss" resolve --distro ubuntu:24.04 --pkgs ca-certificates -q)
warmrss=$(rss "$BIN" --cache-dir "$cache" resolve --distro ubuntu:24.04 --pkgs ca-certificates -q)
printf '  cold resolve      %6ss   physical limit (parallel curl + gzip -d) %6ss   ratio %s (goal <= 2)\n' "$cold" "$limit" "$(ratio "$cold" "$limit")"
printf '  warm resolve      %6ss   (best of 5, upstream unchanged; goal < 0.3 s)\n' "$best"
printf '  offline resolve   %6ss\n' "$offline"
printf '  peak RSS          %6s MB cold, %s MB warm (goal < 300 MB)\n' "$peak" "$warmrss"

echo "== parsing rate of Packages text (one core)"
(cd "$(dirname "$0")/.." && go test -run '^$' -bench 'BenchmarkParsePackages$' -benchtime 3x ./deb/ | awk '/MB\/s/{for(i=1;i<=NF;i++) if ($i=="MB/s") print "  ParsePackages " $(i-1) " MB/s (goal >= 150)"}')

# Daemon overhead (api/, cmd/rootfsd/serve.go): hermetic, Alpine fixtures on 127.0.0.1.
echo "== daemon: cached build and resolve, each a separate rootfsd process, in-process vs through the daemon"
(cd "$(dirname "$0")/.." && go test -run '^$' -bench 'BenchmarkDaemonOverhead' -benchtime 20x ./cmd/rootfsd/ | awk '
/DaemonOverhead\/(build|resolve)\//{split($1,a,"/"); sub(/-[0-9]+$/,"",a[3]); t[a[2]"/"a[3]]=$3/1e6}
/daemon-rss/{for(i=1;i<=NF;i++){if($i=="idle-MB")idle=$(i-1); if($i=="peak-MB")peak=$(i-1)}}
END{for(k in t) n++; if(n<4){print "  daemon benchmark failed"; exit 1}
 split("build resolve",ops," ");
 for(i=1;i<=2;i++){x=ops[i]; printf "  %-8s in-process %6.1f ms   daemon %6.1f ms   overhead %+5.1f ms (goal < 20 ms)\n", x, t[x"/in-process"], t[x"/daemon"], t[x"/daemon"]-t[x"/in-process"]}
 printf "  daemon RSS        %s MB idle, %s MB peak over the builds\n", idle, peak}')
