#!/usr/bin/env bash
# Sync against git's own transport, on the 10,000-draft burst repo as the
# central repository (bare), over file:// and over git daemon on loopback:
#   sync-idle   `draft sync` with nothing new, against `git fetch` of the same three refs
#   push        `draft create --push`, against `draft create` plus one `git fetch`
#               and one `git push` of what a create made
#
#   bash benches/sync.sh           # N=10000
#   N=10 bash benches/sync.sh
#
# Needs git (with git-daemon), hyperfine and python3. Writes hyperfine JSON to
# target/bench-sync/ and the table for docs/PERFORMANCE.md to target/bench-sync/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${N:-10000}
out=$root/target/bench-sync
rm -rf "$out" && mkdir -p "$out"

. "$root/benches/lib.sh"

# The central repository: N drafts made within one hour, packed, bare.
"$gen" "$n" "$out/keys" 3600 > "$out/stream"
git init -q -b main "$out/seed"
git -C "$out/seed" fast-import --quiet < "$out/stream"
rm "$out/stream"
git clone -q --bare --no-local "$out/seed" "$out/central.git"
git -C "$out/central.git" fetch -q "$out/seed" refs/notes/zen-evidence:refs/notes/zen-evidence
git -C "$out/central.git" repack -a -d -f -q
git -C "$out/central.git" config receive.denyNonFastForwards true
rm -rf "$out/seed"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --export-all --enable=receive-pack --listen=127.0.0.1 --port="$port" \
  --base-path="$out" "$out" > /dev/null 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

key=$out/keys/bench-bot
agent="env ZEN_MCP_TOKEN=t ZEN_AGENT_ID=bench-bot ZEN_SIGNING_KEY=$key"
refspecs="+refs/heads/main:refs/remotes/origin/main +refs/heads/drafts:refs/remotes/origin/drafts +refs/notes/zen-evidence:refs/notes/remotes/origin/zen-evidence"

for transport in file daemon; do
  case $transport in
    file) url="file://$out/central.git" ;;
    daemon) url="git://127.0.0.1:$port/central.git" ;;
  esac
  clone=$out/clone-$transport
  git clone -q "$url" "$clone"
  git -C "$clone" config zen.autoMaintenance false
  "$draft" --repo "$clone" sync --no-push > /dev/null

  hyperfine --style none --warmup 2 --runs 20 --export-json "$out/sync-idle-$transport.json" \
    -n draft "$draft --repo $clone sync" \
    -n git "git -C $clone fetch -q --no-tags origin $refspecs" > /dev/null

  hyperfine --style none --warmup 2 --runs 20 -N --export-json "$out/push-$transport.json" \
    -n create "$agent $draft --repo $clone create endpoint --name bench-local --provider stripe --target-url https://hooks.example.com/l" \
    -n "create --push" "$agent $draft --repo $clone create endpoint --name bench-pushed --provider stripe --target-url https://hooks.example.com/p --push" \
    > /dev/null
  # The local creates above are pushed now, so the next runs start level.
  $agent "$draft" --repo "$clone" sync > /dev/null
  # git pushing exactly what one create made: the create in --prepare.
  hyperfine --style none --warmup 2 --runs 20 --export-json "$out/git-push-$transport.json" \
    --prepare "$agent $draft --repo $clone create endpoint --name bench-git --provider stripe --target-url https://hooks.example.com/g" \
    -n "git push" "git -C $clone push -q origin drafts refs/notes/zen-evidence" > /dev/null
done

python3 - "$out" "$n" > "$out/table.md" <<'PY'
import json, pathlib, sys
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def median(name, command):
    for r in json.loads((out / f"{name}.json").read_text())["results"]:
        if r["command"] == command:
            return r["median"] * 1000
def ms(v): return f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"
print(f"### `draft sync` and `--push` on a central repository of {n:,} drafts (made within one hour)\n")
print("| transport | sync, nothing new | git fetch, same refs | sync ÷ fetch | create | create --push | git fetch + git push | (create --push − create) ÷ (fetch + push) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for t, label in [("file", "file://"), ("daemon", "git daemon (loopback)")]:
    sync, fetch = median(f"sync-idle-{t}", "draft"), median(f"sync-idle-{t}", "git")
    create, pushed = median(f"push-{t}", "create"), median(f"push-{t}", "create --push")
    push = median(f"git-push-{t}", "git push")
    print(f"| {label} | {ms(sync)} | {ms(fetch)} | {sync / fetch:.2f}× | {ms(create)} | {ms(pushed)} | {ms(fetch + push)} | {(pushed - create) / (fetch + push):.2f}× |")
PY
cat "$out/table.md"
