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


def memory(name):
    path = out / f"list-memory-cold-{name}.txt"
    return f"{int(path.read_text().split()[-1]) / 1024:.0f} MiB" if path.exists() else "–"


names = sorted({p.stem[len("list-cold-"):] for p in out.glob("list-cold-*.json")},
               key=lambda n: (n.split("-")[0], int(n.split("-")[1])))

print("### `draft list --json` against `git ls-tree -r | git cat-file --batch` on the same blobs\n")
print("| repo | drafts | draft warm | draft cold | git | warm ÷ git | cold ÷ git | git, drafts and notes | cold ÷ that | peak memory (cold) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in names:
    shape, n = name.split("-")
    warm, git, cold = median(f"list-{name}"), median(f"list-{name}", "git"), median(f"list-cold-{name}")
    notes = median(f"list-{name}", "git-notes")
    print(f"| {shape} | {int(n):,} | {ms(warm)} | {ms(cold)} | {ms(git)} | {ratio(warm, git)} | {ratio(cold, git)} "
          f"| {ms(notes)} | {ratio(cold, notes)} | {memory(name)} |")

print("\n### Cost per operation as the branch grows (median; ratio to the 10-draft repo of the same shape)\n")
print("| command | repo | 10 drafts | 10,000 drafts | 100,000 drafts | 10,000 ÷ 10 | 100,000 ÷ 10 |")
print("|---|---|---:|---:|---:|---:|---:|")
for command in ["show", "create", "discard", "apply"]:
    for shape in ["spread", "burst"]:
        cells = {n: median(f"{command}-{shape}-{n}") for n in (10, 10_000, 100_000)}
        if all(v is None for v in cells.values()):
            continue
        row = " | ".join(ms(cells[n]) for n in (10, 10_000, 100_000))
        print(f"| `draft {command}` | {shape} | {row} | {ratio(cells[10_000], cells[10])} | {ratio(cells[100_000], cells[10])} |")

print("\n### What one `draft create` writes (new loose objects: count, bytes written as git stores them, bytes uncompressed)\n")
print("| repo | 10 drafts | 10,000 drafts | 100,000 drafts |")
print("|---|---:|---:|---:|")
for shape in ["spread", "burst"]:
    cells = []
    for n in (10, 10_000, 100_000):
        path = out / f"create-writes-{shape}-{n}.txt"
        if path.exists():
            objects, written, raw = path.read_text().split()
            cells.append(f"{objects} objects, {int(written) / 1024:.1f} KiB ({int(raw) / 1024:.1f} KiB raw)")
        else:
            cells.append("–")
    print(f"| {shape} | " + " | ".join(cells) + " |")

print("\n### `draft evidence verify` (every signature, position and link) against git reading the drafts' blobs\n")
print("| repo | records | verify | git | verify ÷ git | git, all verify reads | verify ÷ that | after 100 more: full | `--since` the earlier head |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in names:
    if median(f"verify-{name}") is None:
        continue
    shape, n = name.split("-")
    v, g = median(f"verify-{name}"), median(f"verify-{name}", "git")
    everything = median(f"verify-{name}", "git-all")
    full, since = median(f"verify-since-{name}", "full"), median(f"verify-since-{name}", "since")
    cells = [ms(v), ms(g), ratio(v, g), ms(everything), ratio(v, everything), ms(full), ms(since)]
    print(f"| {shape} | {int(n):,} | " + " | ".join(cells) + " |")
