"""The layout's rules, checked on the import graph (docs/architecture.md, "Layer contract"):
stages and adapters import down only, and no module takes part in an import cycle — not even
through an import hidden inside a function."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def test_the_layer_contract_holds() -> None:
    # import-linter reads [tool.importlinter] in pyproject.toml: the one statement of the order.
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is a dev dependency: run `make test` to install it"
    proc = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 kept, 0 broken" in proc.stdout


def test_no_module_is_part_of_an_import_cycle() -> None:
    graph = grimp.build_graph("bot")  # imports inside functions count too
    cycles = sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )
    assert cycles == []


def test_only_the_composition_root_and_basics_sit_at_the_top() -> None:
    top = sorted(p.stem for p in (ROOT / "bot").glob("*.py") if p.stem != "__init__")
    assert top == ["__main__", "app", "logs", "runtime", "settings"]
