"""`issuewright plan --repo` on a generated repository: the first run (the repository map is
built and cached) and the second (the map comes from the cache), as a user runs them.

    .venv/bin/python -m bench.cli_repomap [--files 2000] [--runs 2]

Generates a git repository of Python modules (classes, functions, imports between them) with
some Markdown, commits it, then runs the installed `issuewright plan … --repo … --json` as a
fresh process each time against an empty cache folder (ISSUEWRIGHT_CACHE_DIR). Prints the wall
time of each run and the cache's size.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = Path(sys.executable).parent / "issuewright"
WORDS = (
    "account invoice ledger parser token widget render cache session export import schedule "
    "report metric budget queue worker client server payload record filter batch policy"
).split()

ISSUE = """The invoice export drops the last ledger record

`export_invoice_batch()` in the ledger package returns one record fewer than the batch holds
when the batch size is a multiple of the page size.

### Steps
1. Create 40 invoices
2. Run the export with page size 20
"""


def module(rng: random.Random, package: str, index: int, modules: list[str]) -> str:
    lines = [f'"""The {rng.choice(WORDS)} {rng.choice(WORDS)} of {package}."""', ""]
    for other in rng.sample(modules, k=min(3, len(modules))):
        lines.append(f"from {other} import helper_{abs(hash(other)) % 50}")
    lines.append("")
    for c in range(rng.randint(3, 6)):
        name = f"{rng.choice(WORDS).title()}{rng.choice(WORDS).title()}{index}_{c}"
        lines += [f"class {name}:", f'    """{rng.choice(WORDS)} handling."""', ""]
        for m in range(rng.randint(4, 10)):
            verb, noun = rng.choice(WORDS), rng.choice(WORDS)
            lines += [
                f"    def {verb}_{noun}_{m}(self, {noun}, limit=10):",
                f'        """{verb.title()} the {noun} of this {rng.choice(WORDS)}."""',
                f"        total = [{noun} for _ in range(limit)]",
                f"        seen = {{}}  # {' '.join(rng.choices(WORDS, k=6))}",
                "        if len(total) > limit:",
                f"            raise ValueError('{verb} {noun} over the limit')",
                "        return total",
                "",
            ]
    for f in range(rng.randint(2, 8)):
        lines += [f"def helper_{f}(value):", f"    return value * {f}  # {rng.choice(WORDS)}", ""]
    return "\n".join(lines) + "\n"


def generate(root: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    packages = [f"pkg_{w}" for w in WORDS[:20]]
    modules: list[str] = []
    for i in range(files):
        package = packages[i % len(packages)]
        if i % 10 == 9:
            path = root / "docs" / package / f"page_{i}.md"
            text = f"# {rng.choice(WORDS).title()}\n\n" + " ".join(rng.choices(WORDS, k=200))
        else:
            path = root / "src" / package / f"mod_{i}.py"
            text = module(rng, package, i, modules[-50:])
            modules.append(f"{package}.mod_{i}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), *ident, "commit", "-qm", "gen"], check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="files to generate (2000)")
    parser.add_argument("--runs", type=int, default=2, help="plan runs (2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "repo", Path(tmp) / "cache"
        generate(root, args.files)
        issue = Path(tmp) / "issue.md"
        issue.write_text(ISSUE)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "GITHUB_"))}
        env["ISSUEWRIGHT_CACHE_DIR"] = str(cache)
        argv = [str(EXE), "plan", "--issue-file", str(issue), "--repo", str(root), "--json"]
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            subprocess.run(argv, check=True, env=env, cwd=tmp, capture_output=True)
            elapsed = time.perf_counter() - started
            size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
            print(f"plan --repo ({args.files} files) run {run}: {elapsed:5.1f} s, cache {size:,} B")


if __name__ == "__main__":
    main()
