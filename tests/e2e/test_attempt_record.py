"""Every attempt keeps its record: the prompt it sent, the model's raw answer, what applying
it did (the refusal reasons included), the diff it pushed and its timings, without secrets
and within its caps. Through the real app, the GitHub simulator and a scripted model."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.attempt import edit_rounds
from bot.cli.main import main
from bot.core.attempt_record import round_separator
from bot.core.record_text import ANSWER_CAP_BYTES
from bot.store.models import Attempt, AttemptRecord
from tests.conftest import WEBHOOK_SECRET
from tests.e2e.conftest import BUG_REPORT, CALC_FILES, FIX_ADD, MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import kill_after, settle_until_killed
from tests.e2e.pipeline_helpers import both, edit, new_file, set_config
from tests.e2e.test_llm_plan import GOOD, plan_issue
from tests.e2e.tracker_helpers import ADD_TEST, fail_checks, pr_of, task
from tests.llm_stub import ScriptedLLM

WRONG_SEARCH = edit("calc/ops.py", "    return a * b\n", "    return a + b\n")


async def label(scenario: Scenario, body: str = BUG_REPORT) -> int:
    issue = await scenario.sim.open_issue(REPO, "add() subtracts", body, user="reporter")
    await scenario.sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()
    return issue.number


async def records(scenario: Scenario) -> list[tuple[Attempt, AttemptRecord | None]]:
    async with scenario.harness.sessions() as session:
        attempts = (await session.execute(select(Attempt).order_by(Attempt.id))).scalars().all()
        return [(a, await session.get(AttemptRecord, a.id)) for a in attempts]


async def only_record(scenario: Scenario) -> AttemptRecord:
    [(_, record)] = await records(scenario)
    assert record is not None
    return record


async def test_an_attempt_keeps_its_prompt_answer_outcome_diff_and_timings(
    scenario: Scenario,
) -> None:
    # SQLite only: the harness's app runs its lifespan on another event loop, which asyncpg
    # refuses; the record's reads and writes on PostgreSQL are tests/store's and tests/cli's.
    await label(scenario)
    [(attempt, record)] = await records(scenario)
    assert attempt.kind == "generate" and attempt.outcome == "success"
    assert record is not None
    sent = scenario.llm.requests[0]["messages"]
    assert record.system_prompt == sent[0]["content"]
    assert (
        record.user_prompt == sent[1]["content"] and "returns the difference" in sent[1]["content"]
    )
    assert record.answer == FIX_ADD
    assert record.outcome["applied"] is True and record.outcome["files"] == ["calc/ops.py"]
    assert record.outcome["refused"] == [] and record.outcome["repaired"] is False
    assert [r["round"] for r in record.outcome["rounds"]] == [1]
    assert record.diff is not None and "+    return a + b" in record.diff
    assert set(record.timings) == {"llm_s", "apply_s"}
    assert all(seconds >= 0 for seconds in record.timings.values())


class TestRefusedAnswers:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(WRONG_SEARCH, FIX_ADD)

    async def test_a_repair_round_keeps_both_answers_and_the_first_ones_reasons(
        self, scenario: Scenario
    ) -> None:
        await label(scenario)
        record = await only_record(scenario)
        assert record.answer == WRONG_SEARCH + round_separator(2) + FIX_ADD
        first, second = record.outcome["rounds"]
        assert first["applied"] is False and "calc/ops.py" in first["refused"][0]
        assert second["applied"] is True and record.outcome["repaired"] is True
        # The repair message sent back is kept under the same separator.
        repair = scenario.llm.requests[1]["messages"][-1]["content"]
        assert record.user_prompt is not None
        assert record.user_prompt.endswith(round_separator(2) + repair)


class TestRefusedTwice:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(WRONG_SEARCH)

    async def test_a_refused_answer_keeps_why(self, scenario: Scenario) -> None:
        await label(scenario)
        [(attempt, record)] = await records(scenario)
        assert attempt.outcome == "failed" and record is not None
        assert record.outcome["applied"] is False and record.outcome["repaired"] is False
        assert len(record.outcome["rounds"]) == 2
        assert record.outcome["refused"] and "calc/ops.py" in record.outcome["refused"][0]
        assert record.diff is None  # nothing was written, nothing pushed


class TestSecrets:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(FIX_ADD.replace("SUMMARY:", f"SUMMARY: key {WEBHOOK_SECRET};"))

    async def test_no_secret_of_the_issue_or_the_answer_is_stored(self, scenario: Scenario) -> None:
        await label(scenario, BUG_REPORT + f"\nOur webhook secret is {WEBHOOK_SECRET}.\n")
        assert WEBHOOK_SECRET in scenario.llm.requests[0]["messages"][1]["content"]
        record = await only_record(scenario)
        stored = [record.system_prompt, record.user_prompt, record.answer, record.diff]
        stored.append(str(record.outcome))
        assert all(WEBHOOK_SECRET not in (text or "") for text in stored)
        assert "[redacted]" in (record.user_prompt or "")
        assert "[redacted]" in (record.answer or "")


class TestCaps:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(FIX_ADD + "\n" + "This line explains the change at length.\n" * 8000)

    async def test_a_long_answer_is_kept_up_to_its_cap_and_says_so(
        self, scenario: Scenario
    ) -> None:
        await label(scenario)
        record = await only_record(scenario)
        assert record.answer is not None and record.answer.startswith(FIX_ADD)
        assert len(record.answer.encode()) <= ANSWER_CAP_BYTES
        assert record.answer.endswith(f"cut at {ANSWER_CAP_BYTES // 1024} KB")
        assert record.outcome["applied"] is True


async def test_a_job_killed_after_the_answer_arrived_still_leaves_it(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    switch = kill_after(monkeypatch, edit_rounds, "apply_answer")
    issue = await scenario.sim.open_issue(REPO, "add() subtracts", BUG_REPORT, user="reporter")
    await scenario.sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await settle_until_killed(scenario, switch)
    [(attempt, record)] = await records(scenario)
    assert attempt.outcome == "running"  # the job died mid-attempt
    assert record is not None and record.answer == FIX_ADD and record.user_prompt


class TestOtherAttempts:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM("calc/ops.py\n", FIX_ADD, ADD_TEST)

    async def test_localization_and_ci_fix_attempts_keep_theirs(self, scenario: Scenario) -> None:
        set_config(
            scenario.sim, "llm_provider: openai\nllm_model: gpt-4o-mini\nllm_localize: true\n"
        )
        await label(scenario)
        done = await task(scenario)
        await fail_checks(scenario, pr_of(scenario, str(done.branch)).pull.head_sha)
        await scenario.settle()
        kept: dict[str, Any] = {a.kind: r for a, r in await records(scenario)}
        assert list(kept) == ["localize", "generate", "ci_fix"]
        localize = kept["localize"]
        assert "<repository_map>" in localize.user_prompt
        assert localize.answer == "calc/ops.py\n"
        assert localize.outcome["picked"] == ["calc/ops.py"]
        fix = kept["ci_fix"]
        assert fix.answer == ADD_TEST and fix.outcome["files"] == ["tests/test_ops.py"]
        assert "+def test_add" in fix.diff


class TestReadBackFromTheCommandLine:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(WRONG_SEARCH, FIX_ADD)

    async def test_task_show_and_apply_from_attempt_read_what_the_app_kept(
        self,
        scenario: Scenario,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        number = await label(scenario)
        [(attempt, _)] = await records(scenario)
        monkeypatch.setenv("DATABASE_URL", scenario.settings.database_url)
        monkeypatch.delenv("ENV_FILE", raising=False)
        monkeypatch.chdir(tmp_path)

        key = f"{REPO}#{number}/1"
        assert await asyncio.to_thread(main, ["task", "show", key, "--answer"]) == 0
        shown = capsys.readouterr().out
        assert "applied after a repair round: calc/ops.py" in shown
        assert WRONG_SEARCH in shown and FIX_ADD in shown

        checkout = calc_checkout(tmp_path / "calc")
        argv = ["apply", "--from-attempt", str(attempt.id), "--repo", str(checkout)]
        assert await asyncio.to_thread(main, [*argv, "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "+    return a + b" in out and "dry run: nothing written" in out
        assert await asyncio.to_thread(main, argv) == 0
        assert "return a + b" in (checkout / "calc" / "ops.py").read_text()


def calc_checkout(root: Path) -> Path:
    for name, text in CALC_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "calc"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)
    return root


class TestTooManyFiles:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(both(FIX_ADD, new_file("NOTES.md", "notes\n")))

    async def test_an_answer_over_the_file_limit_is_recorded_as_refused(
        self, scenario: Scenario
    ) -> None:
        set_config(
            scenario.sim, "llm_provider: openai\nllm_model: gpt-4o-mini\nmax_files_per_task: 1\n"
        )
        await label(scenario)
        [(attempt, record)] = await records(scenario)
        assert attempt.outcome == "failed" and record is not None
        assert record.outcome["applied"] is False
        assert record.outcome["refused"] == [
            "the answer changes 2 files; the limit is 1 (`max_files_per_task`)"
        ]


class TestPlanningCall:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(GOOD, FIX_ADD)

    async def test_the_planning_call_keeps_its_prompt_and_answer(self, scenario: Scenario) -> None:
        await plan_issue(scenario)
        [(attempt, record)] = await records(scenario)
        assert attempt.kind == "plan" and record is not None
        sent = scenario.llm.requests[0]["messages"]
        assert (record.system_prompt, record.user_prompt) == (
            sent[0]["content"],
            sent[1]["content"],
        )
        assert record.answer == GOOD
        assert record.outcome == {"used": True, "why": None}
