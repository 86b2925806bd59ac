#!/usr/bin/env python3
"""Tests of check_layers.py on small made-up source trees (ctest: layers.check_script)."""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_layers.py")


class CheckLayersTest(unittest.TestCase):

    def tree(self, layers, files):
        root = tempfile.mkdtemp(prefix="kith-layers-")
        self.addCleanup(subprocess.run, ["rm", "-rf", root])
        with open(os.path.join(root, "layers.txt"), "w") as f:
            f.write(textwrap.dedent(layers))
        for line in textwrap.dedent(layers).splitlines():  # a folder for every module listed
            name = line.split("#")[0].split(":")[0].strip()
            if name.isidentifier():
                os.makedirs(os.path.join(root, name), exist_ok=True)
        for rel, text in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        return root

    def check(self, root):
        return subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)

    LAYERS = """\
        low
        mid
        top
        top: low  # comment
        """

    def test_downward_includes_pass(self):
        root = self.tree(self.LAYERS, {
            "low/a.hpp": '#include <vector>\n#include "low/b.hpp"\n',
            "mid/m.cpp": '#include "low/a.hpp"\n#include "mid/m.hpp"\n#include "other/x.h"\n',
            "top/t.cpp": '#include "low/a.hpp"\n'})
        cp = self.check(root)
        self.assertEqual(cp.returncode, 0, cp.stderr)

    def test_upward_include_names_file_line_and_rule(self):
        root = self.tree(self.LAYERS, {"low/a.cpp": '// x\n\n  #  include "mid/m.hpp"\n'})
        cp = self.check(root)
        self.assertEqual(cp.returncode, 1)
        self.assertIn(os.path.join(root, "low", "a.cpp") + ":3: error: module low includes \"mid/...\", "
                      "a module above it", cp.stderr)

    def test_allow_list_restricts(self):
        root = self.tree(self.LAYERS, {"top/sub/t.hpp": '#include "mid/m.hpp"\n'})
        cp = self.check(root)
        self.assertEqual(cp.returncode, 1)
        self.assertIn("t.hpp:1: error: module top includes \"mid/...\", which its allow-list", cp.stderr)
        self.assertIn("top may include only: low", cp.stderr)

    def test_malformed_layers_file(self):
        for layers in ("low\nlow\n", "low\nmid: top\ntop\n", "mid: low\n", "Bad name\n"):
            with self.subTest(layers=layers):
                cp = self.check(self.tree(layers, {}))
                self.assertEqual(cp.returncode, 2, cp.stderr)

    def test_module_folder_missing_from_layers(self):
        root = self.tree("low\n", {"low/CMakeLists.txt": "", "new/CMakeLists.txt": ""})
        cp = self.check(root)
        self.assertEqual(cp.returncode, 2)
        self.assertIn("does not list these modules", cp.stderr)

    def test_the_real_tree_passes(self):
        src = os.path.join(os.path.dirname(SCRIPT), "..", "src")
        cp = self.check(src)
        self.assertEqual(cp.returncode, 0, cp.stderr)


if __name__ == "__main__":
    unittest.main()
