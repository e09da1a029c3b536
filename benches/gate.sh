#!/usr/bin/env bash
# The gate's cost follows the push: one new draft pushed with plain `git push`
# onto a gated central repository of 10 and of 10,000 drafts (made within one
# hour), and the same push onto the same repositories without the gate.
#
#   bash benches/gate.sh
#
# Needs git, hyperfine and python3. Writes hyperfine JSON to target/bench-gate/
# and the table for docs/PERFORMANCE.md to target/bench-gate/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench-gate
rm -rf "$out" && mkdir -p "$out"

. "$root/benches/lib.sh"

for n in 10 10000; do
  dir=$out/$n
  mkdir -p "$dir"
  "$gen" "$n" "$dir/keys" 3600 > "$dir/stream"
  git init -q -b main "$dir/seed"
  git -C "$dir/seed" fast-import --quiet < "$dir/stream"
  rm "$dir/stream"
  git -C "$dir/seed" checkout -q main
  git -C "$dir/seed" config zen.autoMaintenance false
  # alice becomes the admin, and roots the trust timeline.
  sed -i 's/namespaces="zen-draft-evidence,zen-draft-apply"/namespaces="zen-draft-evidence,zen-draft-apply,zen-draft-admin"/' "$dir/seed/.zen/allowed_signers"
  git -C "$dir/seed" commit -q -am "alice administers"
  env ZEN_USER_ID=alice ZEN_SIGNING_KEY="$dir/keys/bench-bot" "$draft" --repo "$dir/seed" trust init > /dev/null
  for kind in gated plain; do
    git clone -q --bare --no-local "$dir/seed" "$dir/$kind.git"
    git -C "$dir/$kind.git" fetch -q "$dir/seed" refs/notes/zen-evidence:refs/notes/zen-evidence
    git -C "$dir/$kind.git" repack -a -d -f -q
    git clone -q "$dir/$kind.git" "$dir/clone-$kind"
    git -C "$dir/clone-$kind" config zen.autoMaintenance false
    "$draft" --repo "$dir/clone-$kind" sync --no-push > /dev/null
  done
  "$draft" hook install "$dir/gated.git" > /dev/null
  for kind in gated plain; do
    clone=$dir/clone-$kind
    hyperfine --style none --warmup 2 --runs 20 --export-json "$out/push-$kind-$n.json" \
      --prepare "env ZEN_MCP_TOKEN=t ZEN_AGENT_ID=bench-bot ZEN_SIGNING_KEY=$dir/keys/bench-bot $draft --repo $clone create endpoint --name bench-\$(date +%s%N) --provider stripe --target-url https://hooks.example.com/b" \
      -n "git push" "git -C $clone push -q origin drafts refs/notes/zen-evidence" > /dev/null
  done
done

python3 - "$out" > "$out/table.md" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
def median(name):
    return json.loads((out / f"{name}.json").read_text())["results"][0]["median"] * 1000
print("### One new draft pushed with `git push` onto a central repository (median)\n")
print("| central repo | 10 drafts | 10,000 drafts | 10,000 ÷ 10 |")
print("|---|---:|---:|---:|")
for kind, label in [("gated", "with the gate (`draft hook install`)"), ("plain", "without a hook")]:
    small, big = median(f"push-{kind}-10"), median(f"push-{kind}-10000")
    print(f"| {label} | {small:.1f} ms | {big:.1f} ms | {big / small:.2f}× |")
gated, plain = median("push-gated-10000"), median("push-plain-10000")
print(f"\nAt 10,000 drafts the gate adds {gated - plain:.1f} ms to the push ({gated / plain:.2f}× the push without it).")
PY
cat "$out/table.md"
