"""The layer contract (.importlinter) really fails when a lower layer imports a higher one.

`make lint` runs lint-imports on the tree; this shows the contract has teeth: a copy of the
tree with one wrong arrow added is refused, naming the arrow, and the same copy without it
passes.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "cli", "schedules", "jobs", "services", "db", "worker", "core")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--config",
            str(tree / ".importlinter"),
            "--no-cache",
        ],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / ".importlinter", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_a_lower_layer_importing_a_higher_one_is_refused(tmp_path):
    tree = copy_tree(tmp_path)
    assert lint_imports(tree).returncode == 0, "the tree itself must keep its layers"
    # Deliberately wrong: the floor reaching up into an entry point, hidden inside a function.
    (tree / "core" / "wrong_arrow.py").write_text("def f():\n    from api import app\n    return app\n")
    refused = lint_imports(tree)
    assert refused.returncode != 0
    assert "core.wrong_arrow -> api.app" in refused.stdout
