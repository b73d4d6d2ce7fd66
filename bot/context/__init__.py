"""Context selection: which code of a repository an issue's prompt shows.

repo_map = RepoMap.from_git(git_dir, commit, cache_dir)   # or build_repo_map / from_dir
ranked = rank_files(repo_map, issue_body, title=issue_title)
packed = pack_context(repo_map, ranked, issue_body, budget_tokens=16000)
packed.text, packed.slices, packed.files, packed.tokens

Files the issue names (``named.named_files``; a task's own first: ``named.task_named_files``)
are packed before the ranked ones; pass ``named=`` to choose them, ``named=[]`` for none.

Optional, when the repository enables ``llm_localize``: ``bot.context.llm_pick.llm_pick_files``
reorders ``ranked`` by an LLM's picks before packing (never drops a candidate).
"""

from .pack import PackedContext, pack_context
from .rank import rank_files
from .repomap import FileEntry, RepoMap, build_repo_map
from .signals import IssueSignals, extract_signals

__all__ = [
    "FileEntry",
    "IssueSignals",
    "PackedContext",
    "RepoMap",
    "build_repo_map",
    "extract_signals",
    "pack_context",
    "rank_files",
]
