#!/usr/bin/env bash
# Whole-process benchmarks: zen-draft against git's own cost on the same data,
# on repos built with git fast-import, in three shapes:
#   spread  N drafts over 300 days (about 33 a day at 10,000)
#   burst   N drafts within one hour (what agents do)
#   clone   the burst repo as a CI job gets it: a fresh `git clone` plus the
#           notes, nothing under .git/zen-draft/
#
#   bash benches/cli.sh                       # 10 and 10,000 drafts, plus the 100,000 burst
#   SIZES="10 10000" BIG= bash benches/cli.sh # without the 100,000 burst
#
# Needs git, hyperfine and GNU time. Writes hyperfine JSON to target/bench/
# and the tables for docs/PERFORMANCE.md to target/bench/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=${SIZES:-"10 10000"}
big=${BIG-100000}
out=$root/target/bench
rm -rf "$out" && mkdir -p "$out"

. "$root/benches/lib.sh"

# make SHAPE N: a repo of N pending drafts, packed the way `git gc` packs
# (fast-import deltifies each blob against the one before it, newest last,
# which no real repository looks like).
make() {
  local shape=$1 n=$2 span
  case $shape in spread) span=$((300 * 86400)) ;; burst) span=3600 ;; esac
  local dir=$out/$shape-$n
  mkdir -p "$dir"
  "$gen" "$n" "$dir/keys" "$span" > "$dir/stream"
  git init -q -b main "$dir/repo"
  git -C "$dir/repo" fast-import --quiet < "$dir/stream"
  rm "$dir/stream"
  git -C "$dir/repo" repack -a -d -f -q
  git -C "$dir/repo" config zen.autoMaintenance false
}

# hyperfine NAME ARGS...: one measurement, exported as target/bench/NAME.json.
measure() {
  local name=$1
  shift
  hyperfine --style none --export-json "$out/$name.json" "$@" > /dev/null
}

middle_id() {
  "$draft" --repo "$1" --json list | python3 -c 'import json,sys; d=json.load(sys.stdin)["drafts"]; print(d[len(d)//2]["id"])'
}

# list REPO NAME RUNS: warm and cold listing, git reading the same draft
# blobs, and git reading those and every note a cold listing reads (each
# draft's records, through the notes' index folders).
list() {
  local repo=$1 name=$2 runs=$3 branch=${4:-drafts}
  measure "list-$name" --warmup 1 --runs "$runs" \
    -n draft "$draft --repo $repo list --json > /dev/null" \
    -n git "git -C $repo ls-tree -r --object-only $branch | git -C $repo cat-file --batch > /dev/null" \
    -n git-notes "{ git -C $repo ls-tree -r --object-only $branch; git -C $repo ls-tree -r --object-only refs/notes/zen-evidence drafts; } | git -C $repo cat-file --batch > /dev/null"
  measure "list-cold-$name" --runs "$runs" --prepare "rm -rf $repo/.git/zen-draft" \
    -n draft "$draft --repo $repo list --json > /dev/null"
  rm -rf "$repo/.git/zen-draft"
  /usr/bin/time -f '%M' -o "$out/list-memory-cold-$name.txt" "$draft" --repo "$repo" list --json > /dev/null
}

# writes REPO NAME: show, create, discard, apply, and what one create writes.
writes() {
  local repo=$1 name=$2 n=$3 key=$4
  local agent=(env ZEN_MCP_TOKEN=t ZEN_AGENT_ID=bench-bot ZEN_SIGNING_KEY="$key")
  local middle
  middle=$(middle_id "$repo")
  measure "show-$name" --warmup 3 --runs 30 -N -n draft "$draft --repo $repo show $middle"

  # What one create writes: the loose objects it adds, their bytes as written
  # (zlib-compressed, as git stores them) and their bytes uncompressed.
  touch "$out/marker" && sleep 0.01
  "${agent[@]}" "$draft" --repo "$repo" create endpoint --name bench-count --provider stripe \
    --target-url https://hooks.example.com/count > /dev/null
  find "$repo/.git/objects" -path '*/objects/??/*' -type f -newer "$out/marker" > "$out/new-objects"
  local written raw
  written=$(xargs -r stat -c %s < "$out/new-objects" | awk '{s+=$1} END{print s+0}')
  raw=$(sed -E 's|.*/objects/(..)/(.*)|\1\2|' "$out/new-objects" | git -C "$repo" cat-file --batch-check='%(objectsize)' | awk '{s+=$1} END{print s+0}')
  echo "$(wc -l < "$out/new-objects") $written $raw" > "$out/create-writes-$name.txt"

  measure "create-$name" --warmup 2 --runs 30 -N \
    -n draft "${agent[*]} $draft --repo $repo create endpoint --name bench-new --provider stripe --target-url https://hooks.example.com/new"

  # discard and apply need a fresh pending draft each run: --prepare makes one.
  local prepare="${agent[*]} $draft --repo $repo --json create endpoint --name bench-apply-\$(date +%s%N) --provider stripe --target-url https://hooks.example.com/a | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])' > $out/next-id"
  measure "discard-$name" --runs 20 --prepare "$prepare" \
    -n draft "${agent[*]} $draft --repo $repo discard \$(cat $out/next-id)"
  measure "apply-$name" --runs 20 --prepare "$prepare" \
    -n draft "env ZEN_USER_ID=alice ZEN_SIGNING_KEY=$key $draft --repo $repo apply \$(cat $out/next-id)"
}

# verify REPO NAME KEY: the whole log, against git reading the drafts' blobs
# and against git reading everything verify must read: those blobs, every
# note (the records) and every annotated commit (the notes tree's entries
# outside its drafts/ and config/ index folders, whose paths name the commit).
# Then, after 100 more creates, the whole log again and only what came after
# the first tree head (--since).
verify() {
  local repo=$1 name=$2 key=$3
  local notes="git -C $repo ls-tree -r refs/notes/zen-evidence | awk '\$4 !~ /^(drafts|config)\\// { p = \$4; gsub(\"/\", \"\", p); print \$3; print p }'"
  measure "verify-$name" --warmup 1 --runs 5 -n draft "$draft --repo $repo evidence verify" \
    -n git "git -C $repo ls-tree -r --object-only drafts | git -C $repo cat-file --batch > /dev/null" \
    -n git-all "{ git -C $repo ls-tree -r --object-only drafts; $notes; } | git -C $repo cat-file --batch > /dev/null"
  local head
  head=$("$draft" --repo "$repo" --json evidence verify | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%s:%s" % (d["size"], d["root"]))')
  for i in $(seq 100); do
    env ZEN_MCP_TOKEN=t ZEN_AGENT_ID=bench-bot ZEN_SIGNING_KEY="$key" "$draft" --repo "$repo" create endpoint \
      --name "later-$i" --provider stripe --target-url https://hooks.example.com/later > /dev/null
  done
  measure "verify-since-$name" --warmup 1 --runs 5 -N \
    -n full "$draft --repo $repo evidence verify" -n since "$draft --repo $repo evidence verify --since $head"
}

for n in $sizes; do
  for shape in spread burst; do
    make "$shape" "$n"
    repo=$out/$shape-$n/repo
    list "$repo" "$shape-$n" 10
    verify "$repo" "$shape-$n" "$out/$shape-$n/keys/bench-bot"
  done
  # The fresh clone of the burst repo, before it is written to.
  clone=$out/clone-$n
  git clone -q --no-local "$out/burst-$n/repo" "$clone"
  git -C "$clone" fetch -q origin refs/notes/zen-evidence:refs/notes/zen-evidence
  list "$clone" "clone-$n" 10 origin/drafts
  for shape in spread burst; do
    writes "$out/$shape-$n/repo" "$shape-$n" "$n" "$out/$shape-$n/keys/bench-bot"
  done
done

if [[ -n $big ]]; then
  make burst "$big"
  repo=$out/burst-$big/repo
  list "$repo" "burst-$big" 3
  writes "$repo" "burst-$big" "$big" "$out/burst-$big/keys/bench-bot"
fi

python3 "$root/benches/report.py" "$out" > "$out/table.md"
cat "$out/table.md"
