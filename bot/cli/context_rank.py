"""``issuewright context rank``: show what the selector ranks and packs for an issue."""

from __future__ import annotations

from pathlib import Path

from bot.cli.checkout import load_checkout
from bot.cli.output import CliError, fail, print_json
from bot.cli.progress import progress
from bot.cli.table import Column, print_table
from bot.context.pack import pack_context
from bot.context.rank import rank_files

SHOWN = 20


def cli_context_rank(
    repo: Path,
    query_file: str,
    budget: int,
    as_json: bool,
    worktree: bool = False,
    cache_dir: Path | None = None,
) -> int:
    """Rank *repo*'s files (at HEAD, or its work tree: bot/cli/checkout.py) against the issue
    text in *query_file* and print the packing.

    ``as_json`` prints ``{"ranked": [{"path", "score"}…], "packed": [{"path", "start",
    "end"}…], "tokens": n, "repository": {"path", "read", "commit"}}``. Bad arguments print
    one line and return 2.
    """
    if budget <= 0:
        return fail(f"--budget {budget}: must be a positive number of tokens")
    try:
        query = Path(query_file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return fail(f"--query-file {query_file}: {exc.strerror or exc}")
    if not query.strip():
        return fail(f"--query-file {query_file}: the file is empty")
    try:
        checkout = load_checkout(Path(repo), worktree=worktree, cache_dir=cache_dir)
    except CliError as exc:
        return fail(str(exc))
    repo_map = checkout.repo_map
    with progress(f"ranking {len(repo_map.paths):,} files…"):
        ranked = rank_files(repo_map, query)
        packed = pack_context(repo_map, ranked, query, budget_tokens=budget)
    if as_json:
        doc = {
            "ranked": [{"path": p, "score": round(s, 4)} for p, s in ranked if s > 0],
            "packed": [{"path": p, "start": s, "end": e} for p, s, e in packed.slices],
            "tokens": packed.tokens,
            "repository": checkout.as_json(),
        }
        print_json(doc)
        return 0
    print_table(
        [Column("score", right=True), "path"],
        [(f"{score:.3f}", path) for path, score in ranked[:SHOWN]],
        title=f"Ranked: the best {min(SHOWN, len(ranked))} of {len(repo_map.paths)} files",
    )
    print()
    print_table(
        ["path", Column("lines", right=True)],
        [(path, f"{start}-{end}") for path, start, end in packed.slices],
        title=f"Packed: {packed.tokens:,} of {budget:,} tokens",
    )
    print(f"\nfiles: {checkout.describe()}")
    return 0
