#!/usr/bin/env python3
"""Check a zen-draft repository without trusting zen-draft.

Uses only the Python standard library, `git` and `ssh-keygen`:

    python3 verify.py [REPO]          # exit 0: the log holds; exit 1: it does not

It recomputes the RFC 6962 Merkle root of the evidence log
(refs/notes/zen-evidence), checks every record's signature with
`ssh-keygen -Y verify` against the .zen/allowed_signers in force at the
record's position (the timeline of config_changed records; main's file when
the log has no trust root), and checks that every commit on main that touches
endpoints/ after the baseline is exactly an apply: bound by a draft_applied
record, signed in zen-draft-apply by a person, naming that commit, that file
and that blob.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

NOTES = "refs/notes/zen-evidence"
NAMESPACES = {"draft_applied": "zen-draft-apply", "config_changed": "zen-draft-admin"}
PERSON_NAMESPACES = ("zen-draft-apply", "zen-draft-review", "zen-draft-admin")


def git(repo, *args, data=None):
    out = subprocess.run(["git", "-C", repo, *args], input=data, capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout


def tree_entries(repo, tree):
    """Every blob under `tree`, as {path: blob}."""
    out = {}
    for line in git(repo, "ls-tree", "-r", "-z", tree).split(b"\0"):
        if not line:
            continue
        meta, path = line.split(b"\t", 1)
        mode, kind, oid = meta.split()
        out[path.decode()] = (mode.decode(), oid.decode())
    return out


def leaf(line):
    return hashlib.sha256(b"\0" + line).digest()


def node(left, right):
    return hashlib.sha256(b"\1" + left + right).digest()


def merkle_root(leaves):
    """RFC 6962 section 2.1: MTH of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node(merkle_root(leaves[:split]), merkle_root(leaves[split:]))


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def principals_listed(signers_text, principal, namespaces):
    """Whether an allowed_signers line lists `principal` for any of `namespaces`
    (a line with no namespaces= option allows every namespace)."""
    for raw in signers_text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        names, _, rest = line.partition(" ")
        if principal not in names.split(","):
            continue
        allowed = None
        for option in rest.split():
            if option.startswith("namespaces="):
                allowed = option[len("namespaces="):].strip('"').split(",")
        if allowed is None or any(ns in allowed for ns in namespaces):
            return True
    return False


def check_signature(repo, signers_text, record, line, signature, workdir):
    namespace = NAMESPACES.get(record["event"], "zen-draft-evidence")
    signers = os.path.join(workdir, "allowed_signers")
    with open(signers, "w", encoding="utf-8") as f:
        f.write(signers_text)
    sig = os.path.join(workdir, "record.sig")
    with open(sig, "w", encoding="utf-8") as f:
        f.write(signature)
    when = record.get("created_at") or record.get("applied_at") or record.get("discarded_at") \
        or record.get("removed_at") or record.get("changed_at") or ""
    stamp = when.replace("-", "").replace(":", "").replace("T", "").rstrip("Z")[:14] + "Z"
    out = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", signers, "-I", record["signer"], "-n", namespace,
         "-s", sig, f"-Overify-time={stamp}"],
        input=line + b"\n", capture_output=True, check=False)
    return out.returncode == 0


def branch_ref(repo, name):
    """The branch `name`, local or origin's, as a full ref; None when neither exists."""
    for ref in (f"refs/heads/{name}", f"refs/remotes/origin/{name}"):
        try:
            git(repo, "rev-parse", "--verify", "-q", ref)
            return ref
        except RuntimeError:
            continue
    return None


def find_main(repo):
    """Main as zen-draft finds it, never whatever is checked out: the first of
    `git config zen.mainBranch`, main, master and origin's default branch that
    holds .zen/config.yaml, then the branch that config names as main."""
    names = []
    try:
        names.append(git(repo, "config", "zen.mainBranch").decode().strip())
    except RuntimeError:
        pass
    names += ["main", "master"]
    try:
        head = git(repo, "symbolic-ref", "-q", "refs/remotes/origin/HEAD").decode().strip()
        names.append(head.removeprefix("refs/remotes/origin/"))
    except RuntimeError:
        pass
    for name in dict.fromkeys(n for n in names if n):
        ref = branch_ref(repo, name)
        if ref is None:
            continue
        try:
            config = git(repo, "show", f"{ref}:.zen/config.yaml").decode()
        except RuntimeError:
            continue
        named = next((line.split(":", 1)[1].split("#")[0].strip().strip("'\"")
                      for line in config.splitlines() if line.startswith("main_branch:")), name)
        return ref if named == name else branch_ref(repo, named)
    return None


def main(repo):
    problems = []
    try:
        notes_tip = git(repo, "rev-parse", "--verify", "-q", NOTES).decode().strip()
    except RuntimeError:
        print("no evidence log here (refs/notes/zen-evidence); fetch it first")
        return 1
    main_branch = find_main(repo)
    if main_branch is None:
        print("no main branch here (zen.mainBranch, main or master); fetch it first")
        return 1
    notes = tree_entries(repo, notes_tip)
    records = []
    for path, (_, blob) in notes.items():
        hexname = path.replace("/", "")
        if len(hexname) != 40 or path.startswith(("drafts", "config")):
            continue
        text = git(repo, "cat-file", "blob", blob)
        line, _, signature = text.partition(b"\n")
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"the note on {hexname[:12]} is not JSON")
            continue
        if canonical(record).encode() != line:
            problems.append(f"the note on {hexname[:12]} is not canonical JSON")
        records.append((record.get("merkle_position"), record, line, signature.decode(), hexname))
    records.sort(key=lambda r: r[0] if isinstance(r[0], int) else -1)
    for expected, (position, record, *_rest) in enumerate(records):
        if position != expected:
            problems.append(f"position {expected}: the log has {position} there (a gap or a repeat)")
            break
    root = merkle_root([leaf(line) for _, _, line, _, _ in records])

    # The timeline: each config_changed record installs its signers file.
    main_signers = git(repo, "show", f"{main_branch}:.zen/allowed_signers").decode()
    timeline = []
    for position, record, _, _, _ in records:
        if record.get("event") == "config_changed":
            timeline.append((position, git(repo, "cat-file", "blob", record["signers_blob"]).decode()))

    def signers_at(position, is_config):
        if not timeline:
            return main_signers
        chosen = timeline[0][1]
        for at, text in timeline:
            if at < position or (at == position and not is_config):
                chosen = text
        return chosen

    with tempfile.TemporaryDirectory() as workdir:
        previous_time = ""
        applied = {}
        for position, record, line, signature, obj in records:
            event = record.get("event")
            signers = signers_at(position, event == "config_changed")
            if not check_signature(repo, signers, record, line, signature, workdir):
                problems.append(f"position {position}: the {event} signature does not verify for {record.get('signer')}")
            actor = next((record[k] for k in ("created_by", "applied_by", "discarded_by", "removed_by", "changed_by")
                          if k in record), "")
            if actor.startswith("user:") and not principals_listed(signers, record.get("signer"), PERSON_NAMESPACES):
                problems.append(f"position {position}: {actor} acts as a person but is listed as none")
            when = next((record[k] for k in ("created_at", "applied_at", "discarded_at", "removed_at", "changed_at")
                         if k in record), "")
            if when < previous_time:
                problems.append(f"position {position}: the record is older than the one before it")
            previous_time = max(previous_time, when)
            if event == "draft_applied":
                applied[obj] = record

    # Every commit on main that touches endpoints/ after the baseline is an apply.
    baseline = None
    for commit in git(repo, "rev-list", "--first-parent", main_branch).decode().split():
        if git(repo, "ls-tree", commit, ".zen/config.yaml").strip():
            baseline = commit
        else:
            break
    roots = [r for _, r, *_ in records if r.get("event") == "config_changed"]
    if roots:
        baseline = roots[0]["commit"]
    if baseline:
        for commit in git(repo, "rev-list", main_branch, f"^{baseline}").decode().split():
            parents = git(repo, "rev-list", "--parents", "-n", "1", commit).decode().split()[1:]
            # Against every parent: a merge could roll main back to an older tree.
            changed = git(repo, "diff-tree", "-r", "--no-commit-id", "--root", "-m",
                          commit, "--", "endpoints").decode().splitlines()
            if not changed:
                continue
            record = applied.get(commit)
            if record is None or "resource_blob" not in record:
                problems.append(f"commit {commit[:12]} on main changes endpoints/ without a bound draft_applied record")
                continue
            whole = git(repo, "diff-tree", "-r", "--no-commit-id", commit).decode().splitlines()
            fields = whole[0].split() if len(whole) == 1 else []
            exact = (len(parents) == 1 and record.get("applied_commit") == commit and len(fields) == 6
                     and fields[3] == record["resource_blob"] and fields[5] == record["resource"])
            if not exact:
                problems.append(f"commit {commit[:12]} on main is not exactly the apply its record approves")

    print(f"tree size {len(records)}")
    print(f"root {root.hex()}")
    for problem in problems:
        print(f"problem: {problem}")
    print("OK" if not problems else f"FAILED: {len(problems)} problems")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
