#!/usr/bin/env python3
"""Lists import cycles in src/: between files and between top-level modules, and upward arrows.

Reads every `crate::...`, `super::...` and `self::...` path in non-test code (a heuristic, not a
Rust parser: test modules after `#[cfg(test)]` and comment lines are skipped), resolves each to
the file that defines the module, and prints the strongly connected components of the file graph
and of the top-level module graph, then every import that runs up the layer order of
docs/architecture.md. Exit status 1 when any is found.

Usage: tools/modcycles.py [SRC_DIR]   (EDGES=1 also prints every file-to-file edge)
"""

import os
import re
import sys

# Layer order, top down; a module may import only from modules on a lower line.
LAYERS = [
    {"main", "lib", "fuzz_bodies"},
    {"cmd"},
    {"daemon", "ctl"},
    {"web"},
    {"rpc"},
    {"http", "process", "events", "logs"},
    {"config"},
    {"wire", "signals", "pyrepr", "python", "sys", "getopt", "xmlrpc"},
]


# File cycles that are known and accepted for now, each (a frozenset of files) with its reason.
# None at present: a file that extends `ProcessTable` (child_output.rs, dependencies.rs) keeps
# the types the table owns (ChildPipes, DepGate) in files of their own that do not import it.
KNOWN_FILE_CYCLES: set = set()


def layer_of(top):
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    return None


def module_path(src, path):
    rel = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel == ["lib"]:
        return []
    return rel


def strip_test_code(text):
    # Inline test modules and `#[cfg(test)] mod x;` declarations are not part of the layering.
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\(\w+\))?\s+)?mod\s+\w+\s*\{", text)
    if m:
        text = text[: m.start()]
    lines = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("//"):
            continue
        # String literals may contain `::`; drop them crudely.
        lines.append(re.sub(r'"(\\.|[^"\\])*"', '""', line))
    return "\n".join(lines)


def expand_groups(text):
    """`a::{b, c::{d}}` -> `a::b`, `a::c::d` for every path in `text`."""
    out = []
    for m in re.finditer(r"\b(crate|super|self)((?:::\w+)*)(::\{)?", text):
        if not m.group(2) and not m.group(3):
            continue  # a bare word (`&self`, "supervisor"), not a path
        head = m.group(1) + m.group(2)
        if m.group(3):
            # Find the matching brace.
            i = m.end()
            depth = 1
            j = i
            while j < len(text) and depth:
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                j += 1
            inner = text[i : j - 1]
            for part in split_top(inner):
                part = part.strip()
                if not part:
                    continue
                part = re.split(r"\s+as\s+", part)[0].strip()
                if part == "self":
                    out.append(head)
                elif "{" in part:
                    for sub in expand_groups_rel(part):
                        out.append(head + "::" + sub)
                else:
                    out.append(head + "::" + part)
        else:
            out.append(head)
    return out


def expand_groups_rel(part):
    m = re.match(r"([\w:]+?)::\{(.*)\}$", part, re.S)
    if not m:
        return [part]
    res = []
    for p in split_top(m.group(2)):
        p = re.split(r"\s+as\s+", p.strip())[0].strip()
        if not p:
            continue
        if p == "self":
            res.append(m.group(1))
        else:
            res.extend(m.group(1) + "::" + s for s in expand_groups_rel(p))
    return res


def split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            # Test-only files (`#[cfg(test)] mod x_tests;`, `tests/`) are not part of the layering.
            if n.endswith(".rs") and not n.endswith("_tests.rs") and "tests" not in root.split(os.sep):
                p = os.path.join(root, n)
                files[tuple(module_path(src, p))] = os.path.relpath(p, src)

    def resolve(path):
        # Longest prefix that names a file module.
        for k in range(len(path), 0, -1):
            if tuple(path[:k]) in files:
                return files[tuple(path[:k])]
        return None

    edges = {}
    for mod, f in files.items():
        with open(os.path.join(src, f)) as fh:
            text = strip_test_code(fh.read())
        deps = set()
        for p in expand_groups(text):
            segs = p.split("::")
            if segs[0] == "crate":
                target = segs[1:]
            else:
                # `self::` is the module itself; `super::` its parent (for a.rs the parent of a).
                base = list(mod)
                i = 0
                while i < len(segs) and segs[i] in ("super", "self"):
                    if segs[i] == "super":
                        base = base[:-1]
                    i += 1
                target = base + segs[i:]
            t = resolve(target)
            if t and t != f:
                deps.add(t)
        # `supervisor::` from main.rs is the library.
        if f == "main.rs" and "supervisor::cmd" in text:
            deps.add(files[("cmd",)])
        edges[f] = deps

    def top(f):
        parts = f[: -len(".rs")].split(os.sep)
        return parts[0]

    if os.environ.get("EDGES"):
        for f, deps in sorted(edges.items()):
            for d in sorted(deps):
                print(f"edge: {f} -> {d}")
    bad = False
    for name, graph in (("file", edges), ("top-level module", top_graph(edges, top))):
        for comp in sccs(graph):
            if len(comp) > 1:
                known = name == "file" and frozenset(comp) in KNOWN_FILE_CYCLES
                bad |= not known
                label = "known file cycle (KNOWN_FILE_CYCLES)" if known else f"{name} cycle"
                print(f"{label}: " + " <-> ".join(sorted(comp)))
    for f, deps in sorted(edges.items()):
        lf = layer_of(top(f))
        for d in sorted(deps):
            ld = layer_of(top(d))
            if top(f) != top(d) and lf is not None and ld is not None and ld < lf:
                bad = True
                print(f"upward arrow: {f} -> {d}")
            elif top(f) != top(d) and ld == lf:
                print(f"sideways (same layer, allowed without a cycle): {f} -> {d}")
            if lf is None or ld is None:
                print(f"unlayered: {f} -> {d}")
    return 1 if bad else 0


def top_graph(edges, top):
    g = {}
    for f, deps in edges.items():
        g.setdefault(top(f), set())
        for d in deps:
            if top(d) != top(f):
                g[top(f)].add(top(d))
    return g


def sccs(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            strong(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
