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
t0=$(now); "$BIN" --cache-dir "$cache" resolve --distro ubuntu:24.04 --pkgs ca-certificates --format json >"$work/plan.json" 2>/dev/null; t1=$(now)
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

echo "== --layering groups: splitting a 32 MiB layer into 21 (both passes, in memory)"
(cd "$(dirname "$0")/.." && go test -run '^$' -bench 'BenchmarkSplit$' -benchtime 5x ./repo/layering/ | awk '/MB\/s/{for(i=1;i<=NF;i++) if ($i=="MB/s") print "  Split " $(i-1) " MB/s"}')

echo "== extraction: one zstd data.tar (deb/unpack_bench_test.go payload), rootfsd vs zstd -dc | tar -x, same run"
(cd "$(dirname "$0")/.." && go test -run '^$' -bench 'BenchmarkUnpack$/(zst|zst\+WriteDir|ref-zstd-tar)$' -benchtime 30x ./deb/ | awk '
/BenchmarkUnpack\//{split($1,a,"/"); sub(/-[0-9]+$/,"",a[2]); t[a[2]]=$3/1e6}
END{ if (!("ref-zstd-tar" in t)) {print "  (zstd or tar missing: no reference)"; exit}
 printf "  into the build tree   %7.1f ms   zstd -dc | tar -x %7.1f ms   ratio %.2f (goal <= 1.5)\n", t["zst"], t["ref-zstd-tar"], t["zst"]/t["ref-zstd-tar"]
 printf "  into a directory      %7.1f ms   (--output dir:)                  ratio %.2f\n", t["zst+WriteDir"], t["zst+WriteDir"]/t["ref-zstd-tar"]}')

# Daemon overhead (api/, cmd/rootfsd/serve.go): hermetic, Alpine fixtures on 127.0.0.1.
echo "== daemon: cached build and resolve, each a separate rootfsd process, in-process vs through the daemon"
(cd "$(dirname "$0")/.." && go test -run '^$' -bench 'BenchmarkDaemonOverhead' -benchtime 20x ./cmd/rootfsd/ | awk '
/DaemonOverhead\/(build|resolve)\//{split($1,a,"/"); sub(/-[0-9]+$/,"",a[3]); t[a[2]"/"a[3]]=$3/1e6}
/daemon-rss/{for(i=1;i<=NF;i++){if($i=="idle-MB")idle=$(i-1); if($i=="peak-MB")peak=$(i-1)}}
END{for(k in t) n++; if(n<4){print "  daemon benchmark failed"; exit 1}
 split("build resolve",ops," ");
 for(i=1;i<=2;i++){x=ops[i]; printf "  %-8s in-process %6.1f ms   daemon %6.1f ms   overhead %+5.1f ms (goal < 20 ms)\n", x, t[x"/in-process"], t[x"/daemon"], t[x"/daemon"]-t[x"/in-process"]}
 printf "  daemon RSS        %s MB idle, %s MB peak over the builds\n", idle, peak}')

# Root filesystem builds against mmdebstrap on the same set, same variant,
# same run (issue: Debian and Ubuntu root filesystems).
echo "== build: ubuntu:24.04 --variant essential --pkgs ca-certificates (tar output), rootfsd vs mmdebstrap"
repo_dir="$(cd "$(dirname "$0")/.." && pwd)"
mirror=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["indexes"][0]["url"])' "$work/plan.json")
bcache="$work/cache-build"
t0=$(now); "$BIN" --cache-dir "$bcache" build --distro ubuntu:24.04 --variant essential --pkgs ca-certificates --output tar:"$work/ess.tar" -q >/dev/null; t1=$(now)
rcold=$(secs "$t0" "$t1")
# New package sets from cached indexes and packages: five sets never built
# before, each a separate process; their packages come from the cold build
# and one untimed build of their union. Median, and every value.
median() { sort -n | awk '{v[NR]=$1} END{printf "%.3f", v[int((NR+1)/2)]}'; }
spread() { sort -n | awk '{v[NR]=$1} END{printf "%.3f-%.3f", v[1], v[NR]}'; }
"$BIN" --cache-dir "$bcache" build --distro ubuntu:24.04 --variant essential --pkgs ca-certificates,netbase,tzdata --output tar:"$work/union.tar" -q >/dev/null
: >"$work/newsets"
for set in "ca-certificates --trim none" "ca-certificates --trim minimal" "ca-certificates,netbase" "netbase" "ca-certificates,tzdata"; do
	# shellcheck disable=SC2086 # the set carries its own flags
	t0=$(now); "$BIN" --cache-dir "$bcache" build --distro ubuntu:24.04 --variant essential --pkgs $set --output tar:"$work/new.tar" -q >/dev/null; t1=$(now)
	secs "$t0" "$t1" >>"$work/newsets"; echo >>"$work/newsets"
done
rnewset=$(median <"$work/newsets")
"$BIN" --cache-dir "$bcache" lock --distro ubuntu:24.04 --variant essential --pkgs ca-certificates -o "$work/ess.lock" -q
"$BIN" --cache-dir "$bcache" build --lock "$work/ess.lock" --output tar:"$work/ess3.tar" -q >/dev/null
: >"$work/locks"
for _ in 1 2 3 4 5; do
	t0=$(now); "$BIN" --cache-dir "$bcache" build --lock "$work/ess.lock" --output tar:"$work/ess3.tar" -q >/dev/null; t1=$(now)
	secs "$t0" "$t1" >>"$work/locks"; echo >>"$work/locks"
done
rlock=$(median <"$work/locks"); rlockspread=$(spread <"$work/locks")
rrss=$(rss "$BIN" --cache-dir "$work/cache-build-rss" build --distro ubuntu:24.04 --variant essential --pkgs ca-certificates --output tar:"$work/ess4.tar" -q)
# Physical limit: the same index and package files fetched in parallel,
# decompressed, and the packages extracted with dpkg-deb | tar.
"$BIN" --cache-dir "$bcache" resolve --lock "$work/ess.lock" --format json > "$work/ess.json" 2>/dev/null
mkdir -p "$work/debs" "$work/x"
t0=$(now)
for u in $urls; do (curl -sf "$u" | gzip -dc >/dev/null) & done
python3 -c 'import json,sys
for p in json.load(open(sys.argv[1]))["packages"]: print(p["repository"]+"/"+p["filename"])' "$work/ess.json" | xargs -P 16 -n 4 sh -c 'cd "$0" && curl -sfO "$1" ${2:+-O "$2"} ${3:+-O "$3"}' "$work/debs"
wait
for d in "$work"/debs/*.deb; do dpkg-deb --fsys-tarfile "$d" | tar -x -C "$work/x" 2>/dev/null; done
t1=$(now); plimit=$(secs "$t0" "$t1")
if command -v mmdebstrap >/dev/null && [ "$(id -u)" = 0 ]; then
	mm() { mmdebstrap --quiet --mode=root --variant=essential --include=ca-certificates \
		--keyring="$repo_dir/deb/keyrings/ubuntu-archive-keyring.gpg" --components=main \
		noble "$1" "deb $mirror noble main" "deb $mirror noble-updates main" "deb $mirror noble-security main" >/dev/null 2>&1; }
	t0=$(now); mm "$work/mm1.tar"; t1=$(now); mcold=$(secs "$t0" "$t1")
	t0=$(now); mm "$work/mm2.tar"; t1=$(now); mwarm=$(secs "$t0" "$t1")
else
	mcold=0; mwarm=0; echo "  (mmdebstrap not run: needs mmdebstrap and root)"
fi
printf '  rootfsd cold build      %6ss   physical limit %6ss   ratio %s (goal <= 2)\n' "$rcold" "$plimit" "$(ratio "$rcold" "$plimit")"
printf '  mmdebstrap cold         %6ss   rootfsd is %sx faster (goal >= 4)\n' "$mcold" "$(ratio "$mcold" "$rcold")"
printf '  mmdebstrap again        %6ss   rootfsd unchanged lock %6ss: %sx (goal >= 20)\n' "$mwarm" "$rlock" "$(ratio "$mwarm" "$rlock")"
printf '  new set, cached pkgs    %6ss   (median of 5 new sets: %s s; goal < 0.5 s)\n' "$rnewset" "$(tr '\n' ' ' <"$work/newsets" | sed 's/ *$//')"
printf '  unchanged lock rebuild  %6ss   (median of 5, %s s; goal < 0.2 s)\n' "$rlock" "$rlockspread"
printf '  peak RSS                %6s MB (goal < 200 MB)\n' "$rrss"

echo "== image: build --tag of a cached lock (containers-storage commit)"
if command -v podman >/dev/null && [ "$(id -u)" = 0 ]; then
	tag="localhost/rootfsd-bench:$$"
	t0=$(now); "$BIN" --cache-dir "$bcache" build --lock "$work/ess.lock" --tag "$tag" -q >/dev/null; t1=$(now)
	tfirst=$(secs "$t0" "$t1")
	t0=$(now); "$BIN" --cache-dir "$bcache" build --lock "$work/ess.lock" --tag "$tag" -q >/dev/null; t1=$(now)
	tagain=$(secs "$t0" "$t1")
	"$BIN" --cache-dir "$bcache" build --lock "$work/ess.lock" --output oci-archive:"$work/img.tar" -q >/dev/null
	podman rmi -f "$tag" >/dev/null 2>&1 || true
	printf '  build --tag, cached lock %6ss (first commit), %6ss (again); goal < 1.5 s\n' "$tfirst" "$tagain"
	printf '  layer %s bytes uncompressed, oci-archive %s bytes (gzip)\n' "$(stat -c %s "$work/ess3.tar")" "$(stat -c %s "$work/img.tar")"
fi

echo "== registry cache: runner A (empty cache, mirror) and runner B (fresh cache, mirror closed, --cache-from), same lock"
if command -v docker-registry >/dev/null; then
	rport=18724
	mkdir -p "$work/registry"
	printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$rport" >"$work/registry.yml"
	docker-registry serve "$work/registry.yml" >/dev/null 2>&1 & rp=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$rport/v2/" >/dev/null && break; sleep 0.1; done
	rref="oci://127.0.0.1:$rport/rootfsd-cache"
	for out in oci-archive tar; do
		t0=$(now); "$BIN" --cache-dir "$work/rA0-$out" build --lock "$work/ess.lock" --output "$out:$work/rA0.$out" -q >/dev/null; t1=$(now)
		acold=$(secs "$t0" "$t1")
		t0=$(now); "$BIN" --cache-dir "$work/rA-$out" --cache-to "$rref-$out" --plain-http build --lock "$work/ess.lock" --output "$out:$work/rA.$out" -q >/dev/null; t1=$(now)
		apush=$(secs "$t0" "$t1")
		t0=$(now); "$BIN" --cache-dir "$work/rB-$out" --mirror http://127.0.0.1:9 --cache-from "$rref-$out" --plain-http build --lock "$work/ess.lock" --output "$out:$work/rB.$out" -q >/dev/null; t1=$(now)
		bfrom=$(secs "$t0" "$t1")
		same=$(cmp -s "$work/rA.$out" "$work/rB.$out" && echo "identical output" || echo "OUTPUTS DIFFER")
		printf '  --output %-12s runner A cold %6ss (%6ss with the push), runner B %6ss: B is %sx faster than A (goal >= 10), %sx faster than mmdebstrap cold; %s\n' \
			"$out" "$acold" "$apush" "$bfrom" "$(ratio "$acold" "$bfrom")" "$(ratio "$mcold" "$bfrom")" "$same"
	done
	kill "$rp" 2>/dev/null || true
else
	echo "  (docker-registry not installed: skipped)"
fi

echo "== alpine: alpine-base from the fixture ISO repository on 127.0.0.1, warm cache"
fx="$repo_dir/../shared/fixtures/alpine"
if [ -d "$fx" ]; then
	(cd "$fx" && exec python3 -m http.server 18723 --bind 127.0.0.1 >/dev/null 2>&1) & hp=$!
	sleep 0.5
	acache="$work/cache-alpine"
	arepo=http://127.0.0.1:18723/v3.19.1-iso/apks
	"$BIN" --cache-dir "$acache" build --distro alpine:3.19 --repository "$arepo" --pkgs alpine-base --output tar:"$work/a1.tar" -q >/dev/null
	t0=$(now); "$BIN" --cache-dir "$acache" resolve --distro alpine:3.19 --repository "$arepo" --pkgs alpine-base -q >/dev/null; t1=$(now)
	ares=$(secs "$t0" "$t1")
	t0=$(now); "$BIN" --cache-dir "$acache" build --distro alpine:3.19 --repository "$arepo" --pkgs alpine-base --trim none --output tar:"$work/a2.tar" -q >/dev/null; t1=$(now)
	abuild=$(secs "$t0" "$t1")
	kill "$hp" 2>/dev/null || true
	printf '  warm resolve alpine-base %6ss, warm build (new layer) %6ss (goal < 0.3 s)\n' "$ares" "$abuild"
	(cd "$repo_dir" && go test -run '^$' -bench 'BenchmarkParseIndex' -benchtime 3x ./apk/ | awk '/MB\/s/{for(i=1;i<=NF;i++) if ($i=="MB/s") print "  APKINDEX community parse " $(i-1) " MB/s (goal >= 150)"}')
fi
