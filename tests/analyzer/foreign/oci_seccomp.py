#!/usr/bin/env python3
"""Turns a container engine's seccomp profile (the Docker/containers format:
defaultAction, archMap, syscalls with includes/excludes by capability, arch
and kernel version) into the `linux.seccomp` object of an OCI runtime config,
for one x86_64 container with the given capabilities. Used by dump.sh.

  oci_seccomp.py PROFILE.json KERNEL_RELEASE CAP...   (prints JSON)
"""
import json
import sys


def kernel_at_least(release, minimum):
    def parts(v):
        out = []
        for p in v.split("-")[0].split(".")[:2]:
            digits = "".join(c for c in p if c.isdigit())
            out.append(int(digits or 0))
        return out
    return parts(release) >= parts(minimum)


def applies(rule, caps, release):
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    arches = {"amd64", "x86_64"}
    if inc.get("arches") and not arches & set(inc["arches"]):
        return False
    if inc.get("caps") and not set(inc["caps"]) <= caps:
        return False
    if inc.get("minKernel") and not kernel_at_least(release, inc["minKernel"]):
        return False
    if exc.get("arches") and arches & set(exc["arches"]):
        return False
    if exc.get("caps") and set(exc["caps"]) & caps:
        return False
    if exc.get("minKernel") and kernel_at_least(release, exc["minKernel"]):
        return False
    return True


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    profile = json.load(open(sys.argv[1]))
    release, caps = sys.argv[2], set(sys.argv[3:])
    arches = []
    for entry in profile.get("archMap") or []:
        if entry["architecture"] == "SCMP_ARCH_X86_64":
            arches = [entry["architecture"]] + entry.get("subArchitectures", [])
    out = {"defaultAction": profile["defaultAction"], "architectures": arches, "syscalls": []}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    for rule in profile["syscalls"]:
        if not applies(rule, caps, release):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        converted = {"names": names, "action": rule["action"]}
        if rule.get("args"):
            converted["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a}
                                 for a in rule["args"]]
        if "errnoRet" in rule:
            converted["errnoRet"] = rule["errnoRet"]
        out["syscalls"].append(converted)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
