"""Turns the hyperfine JSON of benches/cli.sh into the tables of docs/PERFORMANCE.md."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])


def median(name, command="draft"):
    path = out / f"{name}.json"
    if not path.exists():
        return None
    for result in json.loads(path.read_text())["results"]:
        if result["command"] == command:
            return result["median"] * 1000
    return None


def ms(value):
    return "–" if value is None else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def ratio(a, b):
    return "–" if a is None or b is None else f"{a / b:.2f}×"


sizes = sorted({int(p.stem.split("-")[-1]) for p in out.glob("list-*.json") if p.stem.split("-")[-1].isdigit()})
small = min(sizes)

print("### `draft list --json` against `git ls-tree -r | git cat-file --batch` on the same blobs\n")
print("| drafts | draft (warm) | draft (cold) | git | warm ÷ git | peak memory |")
print("|---:|---:|---:|---:|---:|---:|")
for n in sizes:
    warm, git, cold = median(f"list-{n}"), median(f"list-{n}", "git"), median(f"list-cold-{n}")
    mem = out / f"list-memory-{n}.txt"
    memory = f"{int(mem.read_text().split()[-1]) / 1024:.0f} MB" if mem.exists() else "–"
    print(f"| {n:,} | {ms(warm)} | {ms(cold)} | {ms(git)} | {ratio(warm, git)} | {memory} |")

print("\n### Cost per operation as the branch grows (median; ratio to the 10-draft repo)\n")
header = " | ".join(f"{n:,} drafts" for n in sizes)
ratios = [n for n in (10_000, 100_000) if n in sizes]
ratio_header = " | ".join(f"{n:,} ÷ {small:,}" for n in ratios)
print(f"| command | {header} | {ratio_header} |")
print("|---|" + "---:|" * (len(sizes) + len(ratios)))
for command in ["show", "create", "discard", "apply"]:
    cells = dict((n, median(f"{command}-{n}")) for n in sizes)
    row = " | ".join(ms(cells[n]) for n in sizes)
    print(f"| `draft {command}` | {row} | " + " | ".join(ratio(cells[n], cells[small]) for n in ratios) + " |")
objects = [(n, out / f"create-objects-{n}.txt") for n in sizes]
if all(path.exists() for _, path in objects):
    row = " | ".join(path.read_text().strip() for _, path in objects)
    print(f"| objects one `draft create` writes | {row} |" + " |" * len(ratios))

print("\n### `draft create` against the plain-git script (hash-object, ls-tree + mktree per level, commit-tree, update-ref, notes add)\n")
print("| drafts | draft create | plain git | draft ÷ git |")
print("|---:|---:|---:|---:|")
for n in sizes:
    a, b = median(f"create-{n}"), median(f"create-{n}", "plain-git")
    print(f"| {n:,} | {ms(a)} | {ms(b)} | {ratio(a, b)} |")

verify = [(n, median(f"verify-{n}")) for n in sizes if median(f"verify-{n}") is not None]
if verify:
    print("\n### `draft evidence verify` (every signature, position and link)\n")
    print("| records | time | per record |")
    print("|---:|---:|---:|")
    for n, t in verify:
        print(f"| {n:,} | {ms(t)} | {t * 1000 / max(n, 1):.0f} µs |")
