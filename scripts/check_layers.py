#!/usr/bin/env python3
"""Fails when a module of src/ includes a module it may not (src/layers.txt says which may).

Usage: check_layers.py SRC_DIR [--stamp FILE]
Reads SRC_DIR/layers.txt, scans every C++ file under SRC_DIR/<module>/ for `#include "<name>/..."`
where <name> is a module, and prints one line per violation as FILE:LINE: message (the form
compilers use, so editors jump to it). Exit 0 when clean (and touches --stamp), 1 otherwise, 2 when
layers.txt itself is malformed. Python 3 stdlib only.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([A-Za-z0-9_]+)/')
SOURCE_EXTENSIONS = (".cpp", ".hpp", ".h", ".cc", ".ipp")


class LayersError(Exception):
    pass


def read_layers(path):
    """(order: [module], only: {module: set of modules}) from a layers.txt."""
    order, only = [], {}
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            name, sep, rest = line.partition(":")
            name = name.strip()
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise LayersError("%s:%d: not a module name: %r" % (path, number, name))
            if not sep:
                if name in order:
                    raise LayersError("%s:%d: module %s is listed twice" % (path, number, name))
                order.append(name)
                continue
            if name not in order:
                raise LayersError("%s:%d: %s: restricts a module not listed above" % (path, number, name))
            for dep in rest.split():
                if dep not in order[:order.index(name)]:
                    raise LayersError("%s:%d: %s may not be allowed %s: it is not listed above %s" % (
                        path, number, name, dep, name))
                only.setdefault(name, set()).add(dep)
    return order, only


def violations(src_dir, order, only):
    """Yields (path, line number, message) for every forbidden include."""
    rank = {m: i for i, m in enumerate(order)}
    for module in order:
        root = os.path.join(src_dir, module)
        for dirpath, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(SOURCE_EXTENSIONS):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) not in rank or m.group(1) == module:
                            continue
                        dep = m.group(1)
                        if rank[dep] > rank[module]:
                            yield path, number, (
                                'module %s includes "%s/...", a module above it (layers.txt lists %s '
                                'after %s; a module may include only those listed before it)' % (
                                    module, dep, dep, module))
                        elif module in only and dep not in only[module]:
                            yield path, number, (
                                'module %s includes "%s/...", which its allow-list in layers.txt does not '
                                'have (%s may include only: %s)' % (
                                    module, dep, module, ", ".join(sorted(only[module]))))


def main(argv):
    args = argv[1:]
    stamp = None
    if "--stamp" in args:
        i = args.index("--stamp")
        stamp = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    src_dir = args[0]
    layers = os.path.join(src_dir, "layers.txt")
    try:
        order, only = read_layers(layers)
    except (LayersError, OSError) as e:
        sys.stderr.write("layer check: %s\n" % e)
        return 2
    missing = [m for m in order if not os.path.isdir(os.path.join(src_dir, m))]
    if missing:
        sys.stderr.write("layer check: %s lists modules with no folder: %s\n" % (layers, ", ".join(missing)))
        return 2
    unlisted = sorted(d for d in os.listdir(src_dir)
                      if os.path.isfile(os.path.join(src_dir, d, "CMakeLists.txt")) and d not in order)
    if unlisted:
        sys.stderr.write("layer check: %s does not list these modules of %s: %s\n" % (
            layers, src_dir, ", ".join(unlisted)))
        return 2
    found = list(violations(src_dir, order, only))
    for path, number, message in found:
        sys.stderr.write("%s:%d: error: %s\n" % (path, number, message))
    if found:
        sys.stderr.write("layer check: %d forbidden include(s); the rules are in %s\n" % (len(found), layers))
        return 1
    if stamp:
        with open(stamp, "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
