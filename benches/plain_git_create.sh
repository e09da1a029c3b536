#!/usr/bin/env bash
# What a user would script with plain git instead of `draft create`: write the
# draft blob, rebuild every tree on its path with ls-tree + mktree, commit,
# move the branch by compare-and-swap, and attach the evidence note. No
# checks and no signature: this is git's floor for the same writes.
# Usage: plain_git_create.sh REPO DRAFT_FILE
set -euo pipefail
repo=$1
draft_file=$2
cd "$repo"
id=$(printf '%016x-%04x' "$(date +%s%N)" "$RANDOM")
dir="drafts/$(date -u +%Y/%m/%d)"
blob=$(git hash-object -w --stdin < "$draft_file")
old=$(git rev-parse refs/heads/drafts)
tree=$( { git ls-tree "$old:$dir" 2>/dev/null || true; printf '100644 blob %s\t%s.yaml\n' "$blob" "$id"; } | git mktree)
path=$dir
while [[ $path != . ]]; do
  name=${path##*/}
  parent=$([[ $path == */* ]] && echo "${path%/*}" || echo .)
  if [[ $parent == . ]]; then spec="$old^{tree}"; else spec="$old:$parent"; fi
  tree=$( { git ls-tree "$spec" 2>/dev/null | grep -v "	$name\$" || true; printf '040000 tree %s\t%s\n' "$tree" "$name"; } | git mktree)
  path=$parent
done
commit=$(git commit-tree "$tree" -p "$old" -m "Create draft $id")
git update-ref refs/heads/drafts "$commit" "$old"
git notes --ref=zen-evidence add -m "{\"draft_id\":\"$id\",\"event\":\"draft_created\"}" "$commit"
