"""Paths no file system can hold, in a model answer, through the app: a NUL byte, a path of
6,000 characters, a name over 255 bytes, a path deeper than PATH_MAX. Each is refused like
any bad path (never an "unexpected error"): the repair round tells the model why, and a good
second answer opens the PR. Nothing of the server's own folders reaches GitHub."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import FIX_ADD, REPO, Scenario
from tests.e2e.pipeline_helpers import (
    assert_jobs_finished,
    both,
    label_new_issue,
    new_file,
    only_task,
    repair_request,
    status_text,
)

UNUSABLE = {
    "nul-byte": ("calc/evil\x00.py", "control characters"),
    "nul-byte-in-a-folder": ("calc\x00/x.py", "control characters"),
    "6000-characters": ("calc/" + "x" * 6000 + ".py", "at most 1,024 are allowed"),
    "long-name": ("calc/" + "\u00e9" * 150 + ".py", "longer than 255 bytes"),
    "deeper-than-path-max": ("/".join(["d" * 200] * 30) + "/x.py", "at most 1,024"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
async def test_unusable_path_gets_the_repair_round_then_a_good_answer_opens_the_pr(
    scenario: Scenario, case: str
) -> None:
    path, reason = UNUSABLE[case]
    # The bad file rides along with the real fix: the whole answer is refused.
    scenario.llm.answers = [both(FIX_ADD, new_file(path, "x = 1\n")), FIX_ADD]
    number = await label_new_issue(scenario)

    feedback = repair_request(scenario)
    assert reason in feedback
    assert "\x00" not in feedback and len(feedback) < 4000  # the path is shown cut, escaped
    [pr] = scenario.sim.pulls(REPO)
    task = await only_task(scenario)
    assert task.state == "pr_open" and task.pr_number == pr.number
    fixed = scenario.sim.read_file(REPO, f"issuewright/{number}-1", "calc/ops.py")
    assert fixed is not None and "return a + b" in fixed
    status = status_text(scenario, number)
    assert "unexpected error" not in status
    assert str(scenario.settings.data_dir) not in status
    await assert_jobs_finished(scenario)


async def test_unusable_path_twice_is_a_clear_refusal(scenario: Scenario) -> None:
    path = "calc/" + "x" * 6000 + ".py"
    answer = both(FIX_ADD, new_file(path, "x = 1\n"))
    scenario.llm.answers = [answer, answer]
    number = await label_new_issue(scenario)

    assert scenario.sim.pulls(REPO) == []
    task = await only_task(scenario)
    assert task.state == "failed"
    status = status_text(scenario, number)
    assert "at most 1,024 are allowed" in status and "/issuewright retry" in status
    assert "unexpected error" not in status and "x" * 300 not in status
    assert str(scenario.settings.data_dir) not in status
    await assert_jobs_finished(scenario)
