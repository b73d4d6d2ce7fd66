"""Whether an answer's edits are already in the files they name (pure, no I/O).

Applying an answer twice must not apply it twice. A section whose SEARCH is part of its REPLACE
(new lines inserted after an anchor line, the commonest edit) still matches once it has been
applied, so a second application would insert the lines again; other sections would fail with
"SEARCH does not match", which says nothing useful either.

The files hold the answer when they are exactly what applying it gives: every edit can be
undone (each REPLACE is found and put back as its SEARCH, last section first; a created file
must hold exactly what was created; a rename is reversed), and applying the answer to what the
undoing gives reproduces the files unchanged. A deleted file is applied when it is absent.
A section that only removes lines (an empty REPLACE) cannot be located once applied, so an
answer with one is never taken as applied: it is applied, or refused, as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.edit_apply import apply_edits, touched_paths
from bot.core.edits import FileEdit, Section

Files = dict[str, str | None]


class _NotApplied(Exception):
    """The files cannot be the result of applying the edits."""


def already_applied(files: Mapping[str, str | None], edits: Sequence[FileEdit]) -> bool:
    """True when `files` (path → content, None or missing = absent) already hold `edits`."""
    if not edits:
        return False
    current: Files = {path: files.get(path) for path in touched_paths(edits)}
    try:
        before = _undo(current, edits)
    except _NotApplied:
        return False
    redone = apply_edits(before, edits)
    return redone.ok and all(redone.files.get(path) == current[path] for path in current)


def _undo(current: Files, edits: Sequence[FileEdit]) -> Files:
    """The files as they were before `edits`."""
    state = dict(current)
    for edit in reversed(edits):
        if edit.action == "delete":
            if state[edit.path] is not None:
                raise _NotApplied
            state[edit.path] = ""  # any content: deleting it again gives the same result
            continue
        path = edit.new_path if edit.action == "rename" and edit.new_path else edit.path
        content = _undo_sections(path, state[path], edit.sections)
        if edit.action == "rename":
            if state[edit.path] is not None or content is None:
                raise _NotApplied
            state[edit.path], state[path] = content, None
        else:
            state[path] = content
    return state


def _undo_sections(path: str, content: str | None, sections: Sequence[Section]) -> str | None:
    """`content` before `sections` (None: the file did not exist)."""
    for section in reversed(sections):
        if content is None:
            raise _NotApplied
        if not section.search:  # the section created the file with exactly this text
            if content != section.replace:
                raise _NotApplied
            content = None
            continue
        if not section.replace:  # removed lines: nothing left to find them by
            raise _NotApplied
        back = Section(search=section.replace, replace=section.search, line=section.line)
        undone = apply_edits({path: content}, [FileEdit(path, "edit", (back,))])
        if not undone.ok:
            raise _NotApplied
        content = undone.files[path]
    return content
