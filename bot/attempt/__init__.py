"""One codegen attempt: LLM → edits → worktree → push → pull request."""
