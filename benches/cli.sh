#!/usr/bin/env bash
# Whole-process benchmarks: zen-draft against git's own cost on the same data,
# on repos with 10, 10,000 and 100,000 drafts built with git fast-import.
#
#   bash benches/cli.sh                 # all sizes (about 10 minutes on 2 cores)
#   SIZES="10 10000" bash benches/cli.sh
#
# Needs git, hyperfine and GNU time. Writes hyperfine JSON to target/bench/
# and the table for docs/PERFORMANCE.md to target/bench/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=${SIZES:-"10 1000 10000 100000"}
out=$root/target/bench
rm -rf "$out" && mkdir -p "$out"

cargo build --release --quiet --bin draft --example bench_repo
draft=$root/target/release/draft
gen=$root/target/release/examples/bench_repo

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
unset ZEN_MCP_TOKEN ZEN_USER_ID ZEN_SIGNING_KEY ZEN_TENANT

for n in $sizes; do
  dir=$out/repo-$n
  mkdir -p "$dir"
  "$gen" "$n" "$dir/keys" > "$dir/stream"
  git init -q -b main "$dir/repo"
  git -C "$dir/repo" fast-import --quiet < "$dir/stream"
  rm "$dir/stream"
done

# hyperfine NAME ARGS...: one measurement, exported as target/bench/NAME.json.
measure() {
  local name=$1
  shift
  hyperfine --style none --export-json "$out/$name.json" "$@" > /dev/null
}

for n in $sizes; do
  repo=$out/repo-$n/repo
  key=$out/repo-$n/keys/bench-bot
  agent=(env ZEN_MCP_TOKEN=t ZEN_AGENT_ID=bench-bot ZEN_SIGNING_KEY="$key")
  middle=$("$draft" --repo "$repo" --json list | python3 -c 'import json,sys; d=json.load(sys.stdin)["drafts"]; print(d[len(d)//2]["id"])')

  # list: warm runs (the first run fills .git/zen-draft/), against git reading the same blobs.
  measure "list-$n" --warmup 1 --runs $(( n > 10000 ? 5 : 10 )) \
    -n draft "$draft --repo $repo list --json > /dev/null" \
    -n git "git -C $repo ls-tree -r --object-only drafts | git -C $repo cat-file --batch > /dev/null"
  rm -rf "$repo/.git/zen-draft"
  measure "list-cold-$n" --runs $(( n > 10000 ? 2 : 5 )) --prepare "rm -rf $repo/.git/zen-draft" \
    -n draft "$draft --repo $repo list --json > /dev/null"
  "$draft" --repo "$repo" list --json > /dev/null
  /usr/bin/time -f '%M' -o "$out/list-memory-$n.txt" "$draft" --repo "$repo" list --json > /dev/null

  measure "show-$n" --warmup 3 --runs 30 -N -n draft "$draft --repo $repo show $middle"

  # Objects one create writes, counted by git (all loose: the repo is packed).
  before=$(git -C "$repo" count-objects | cut -d' ' -f1)
  "${agent[@]}" "$draft" --repo "$repo" create endpoint --name bench-count --provider stripe \
    --target-url https://hooks.example.com/count > /dev/null
  after=$(git -C "$repo" count-objects | cut -d' ' -f1)
  echo $((after - before)) > "$out/create-objects-$n.txt"

  # The plain-git script writes unsigned notes: give it a copy of the repo.
  cp -r "$repo" "$out/repo-$n/plain"
  measure "create-$n" --warmup 2 --runs 30 -N \
    -n draft "${agent[*]} $draft --repo $repo create endpoint --name bench-new --provider stripe --target-url https://hooks.example.com/new" \
    -n plain-git "bash $root/benches/plain_git_create.sh $out/repo-$n/plain $root/drafts.example/proposals/stripe-payments.yaml"
  rm -rf "$out/repo-$n/plain"

  # discard and apply need a fresh pending draft each run: --prepare makes one.
  prepare="${agent[*]} $draft --repo $repo --json create endpoint --name bench-apply-\$(date +%s%N) --provider stripe --target-url https://hooks.example.com/a | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])' > $out/next-id"
  measure "discard-$n" --runs 20 --prepare "$prepare" \
    -n draft "${agent[*]} $draft --repo $repo discard \$(cat $out/next-id)"
  measure "apply-$n" --runs 20 --prepare "$prepare" \
    -n draft "env ZEN_USER_ID=alice ZEN_SIGNING_KEY=$key $draft --repo $repo apply \$(cat $out/next-id)"

  if [[ $n -le 10000 ]]; then
    measure "verify-$n" --warmup 1 --runs 5 -N -n draft "$draft --repo $repo evidence verify"
  fi
done

python3 "$root/benches/report.py" "$out" > "$out/table.md"
cat "$out/table.md"
