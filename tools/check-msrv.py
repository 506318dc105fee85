#!/usr/bin/env python3
"""The declared rust-version holds for the dependency tree (issue 12).

This machine has one toolchain and cannot fetch another, so the crate is not
built with rustc at its rust-version here. What is checked instead:
- our own code: clippy's `incompatible_msrv` lint (on in `cargo clippy
  -- -D warnings`) flags any std API newer than `rust-version`;
- every dependency a library user builds (default features off, `rustls`
  on; and the defaults) declares a rust-version no newer than ours.
"""
import json
import subprocess
import sys


def version(v):
    return tuple(int(x) for x in v.split(".")[:3]) + (0,) * (3 - len(v.split(".")))


def check(features):
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", *features], text=True))
    ours = next(p for p in meta["packages"] if p["name"] == "sslrequire")
    msrv = ours["rust_version"]
    used = {n["id"] for n in meta["resolve"]["nodes"]}
    # Only the dependencies of normal builds (not dev-only).
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    normal, todo = set(), [root]
    while todo:
        n = todo.pop()
        if n in normal:
            continue
        normal.add(n)
        for d in nodes[n]["deps"]:
            if any(k["kind"] in (None, "build") for k in d["dep_kinds"]):
                todo.append(d["pkg"])
    bad = []
    for p in meta["packages"]:
        if p["id"] in normal and p["id"] in used and p.get("rust_version"):
            if version(p["rust_version"]) > version(msrv):
                bad.append(f'{p["name"]} {p["version"]} needs rust {p["rust_version"]}')
    return msrv, bad


failed = False
for features in (["--no-default-features", "--features", "rustls"], []):
    msrv, bad = check(features)
    label = " ".join(features) or "default features"
    if bad:
        failed = True
        print(f"rust-version {msrv} ({label}): dependencies need newer:", *bad, sep="\n  ")
    else:
        print(f"rust-version {msrv} ({label}): every dependency declares <= {msrv}")
sys.exit(1 if failed else 0)
