"""What each attempt of `issuewright run` keeps in its folder (`task-N/attempt-M/`): the
files of its rounds (`round-K-prompt.md`, `round-K-answer.md`, `round-K-apply.json`,
`diff.patch`) and `record.json`, the app's attempt record in the same shape
(bot/core/attempt_record.py): system_prompt, user_prompt, answer, outcome, diff and timings,
with the same scrubbing and caps (`core.record_text.kept_text`).

Every text file is scrubbed and capped too: a prompt and an answer when written, the diff
when the record is brought up to date (at the next round's prompt and when the task ends,
`RunRecord.save`). The secrets are the operator's, from the settings the run read. The
seconds per stage are read from when each file was written: the prompt just before the call,
the answer just after it, the apply result once checked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bot.core.attempt_record import (
    asked,
    joined_rounds,
    record_outcome,
    round_outcome,
    split_rounds,
)
from bot.core.record_text import ANSWER_CAP_BYTES, DIFF_CAP_BYTES, PROMPT_CAP_BYTES, kept_text
from bot.llm.base import ChatMessage

RECORD_FILE = "record.json"


def write_prompt(
    folder: Path, round_: int, messages: list[ChatMessage], secrets: list[str]
) -> None:
    """Before round `round_`'s call: its prompt file, and the record brought up to date."""
    text = "".join(f"## {m.role}\n\n{m.content}\n\n" for m in messages)
    _write(folder / f"round-{round_}-prompt.md", _kept(text, PROMPT_CAP_BYTES, secrets))
    doc = _read_record(folder)
    system, user = asked(messages)
    prompts = split_rounds(doc["user_prompt"])[: round_ - 1] if doc.get("user_prompt") else []
    doc["system_prompt"] = kept_text(system, PROMPT_CAP_BYTES, secrets)
    doc["user_prompt"] = joined_rounds([*prompts, user], PROMPT_CAP_BYTES, secrets)
    _write(folder / RECORD_FILE, json.dumps(doc, indent=2) + "\n")
    update_record(folder, secrets)


def write_answer(folder: Path, round_: int, text: str, secrets: list[str]) -> None:
    """Round `round_`'s raw answer, scrubbed and capped before it touches the disk."""
    _write(folder / f"round-{round_}-answer.md", _kept(text, ANSWER_CAP_BYTES, secrets))


def update_record(folder: Path, secrets: list[str]) -> dict[str, Any]:
    """record.json from the attempt's files, and its answers and diff scrubbed and capped in
    place (their times kept: they measure the stages)."""
    doc = _read_record(folder)
    answers, rounds = [], []
    timings = {"llm_s": 0.0, "apply_s": 0.0}
    n = 1
    while (answer := folder / f"round-{n}-answer.md").is_file():
        answers.append(_scrub_in_place(answer, ANSWER_CAP_BYTES, secrets))
        prompt, applied = folder / f"round-{n}-prompt.md", folder / f"round-{n}-apply.json"
        if prompt.is_file():
            timings["llm_s"] += max(0.0, _mtime(answer) - _mtime(prompt))
        if applied.is_file():
            timings["apply_s"] += max(0.0, _mtime(applied) - _mtime(answer))
            rounds.append(_round_of(n, json.loads(applied.read_text(encoding="utf-8"))))
        n += 1
    if answers:
        doc["answer"] = joined_rounds(answers, ANSWER_CAP_BYTES, secrets)
        doc["timings"] = timings
    if rounds:
        doc["outcome"] = record_outcome(rounds)
    if (diff := folder / "diff.patch").is_file():
        doc["diff"] = _scrub_in_place(diff, DIFF_CAP_BYTES, secrets)
    _write(folder / RECORD_FILE, json.dumps(doc, indent=2) + "\n")
    return doc


def _round_of(number: int, applied: dict[str, Any]) -> dict[str, Any]:
    files = [str(f) for f in applied.get("files") or []]
    ok = bool(applied.get("ok")) and bool(files)
    refused = [str(p) for p in applied.get("problems") or []]
    if applied.get("ok") and not files:
        refused = ["the answer has no edit blocks"]
    return round_outcome(
        number,
        applied=ok,
        files=files,
        refused=refused,
        finish_reason=applied.get("finish_reason"),
    )


# run_local writes each problem as `str(EditProblem(...))`, the dataclass's repr: read back
# into the line the app stores (`EditProblem.render`), so both records say the same.
def _read_record(folder: Path) -> dict[str, Any]:
    path = folder / RECORD_FILE
    empty: dict[str, Any] = {
        "system_prompt": None,
        "user_prompt": None,
        "answer": None,
        "outcome": {},
        "diff": None,
        "timings": {},
    }
    if not path.is_file():
        return empty
    try:
        return {**empty, **json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError):
        return empty


def _scrub_in_place(path: Path, cap_bytes: int, secrets: list[str]) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    kept = _kept(raw, cap_bytes, secrets)
    if kept != raw:
        times = path.stat()
        path.write_text(kept, encoding="utf-8")
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    return kept


def _kept(text: str, cap_bytes: int, secrets: list[str]) -> str:
    return kept_text(text, cap_bytes, secrets) or ""


def _mtime(path: Path) -> float:
    return path.stat().st_mtime_ns / 1e9


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
