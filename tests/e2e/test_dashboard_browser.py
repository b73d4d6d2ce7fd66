"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the real
app served by uvicorn and the GitHub simulator served over HTTP (its OAuth web flow at the same
origin, as on GitHub Enterprise Server). A maintainer logs in, sees only the repository they
can push to, reads a failed task's answer, replays a dead job and logs out; a person who can
only read sees nothing of it. One browser for the module, one context (cookies) per person.

With ISSUEWRIGHT_SCREENSHOTS=1 the pages are saved as docs/dashboard-*.png for the README."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.app import create_app
from bot.store.db import make_engine, make_session_factory
from bot.store.migrate import upgrade
from bot.store.models import Job
from tests.conftest import ROOT, _run_sync, make_settings
from tests.ghsim.served import served, served_simulator
from tests.ghsim.simulator import GitHubSimulator
from tests.web.dashboard_helpers import (
    ANSWER,
    HIDDEN,
    HIDDEN_TITLE,
    MAINTAINER,
    OPERATOR,
    READER,
    REFUSAL,
    VISIBLE,
    Seeded,
    github_people,
    seed,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("ISSUEWRIGHT_SCREENSHOTS") == "1"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="no Chromium on this machine: `apt-get install -y chromium` (Debian) to run the "
    "browser tests; Playwright's own browser download is not used",
)


@dataclass
class World:
    app_url: str
    sim: GitHubSimulator
    rows: Seeded
    database_url: str

    def job_status(self, job_id: int) -> str:
        async def read() -> str:
            engine = make_engine(self.database_url)
            try:
                async with make_session_factory(engine)() as session:
                    job = await session.get(Job, job_id)
                    return job.status
            finally:
                await engine.dispose()

        return _run_sync(read)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, app_private_key: str) -> Iterator[World]:
    root = tmp_path_factory.mktemp("dashboard")
    database_url = f"sqlite+aiosqlite:///{root / 'app.db'}"

    async def prepare(sim: GitHubSimulator) -> Seeded:
        engine = make_engine(database_url)
        try:
            await upgrade(engine)
            return await seed(make_session_factory(engine), sim)
        finally:
            await engine.dispose()

    with served_simulator(root / "github", app_private_key, web=True) as sim:
        github_people(sim)
        rows = _run_sync(lambda: prepare(sim))

        def app_at(origin: str) -> Any:
            settings = make_settings(
                root,
                database_url,
                **sim.settings_overrides(),
                **sim.oauth_settings(origin),
                admin_logins=(OPERATOR,),
            )
            return create_app(settings, run_worker=False)

        with served(app_at, lifespan="on") as (origin, _):
            yield World(origin, sim, rows, database_url)
        assert not sim.violations, sim.violations  # every answer as GitHub's OpenAPI has it


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 720})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=ROOT / "docs" / f"dashboard-{name}.png", full_page=True)


def log_in(page: Page, world: World, login: str) -> None:
    page.goto(f"{world.app_url}/dashboard")
    page.get_by_role("link", name="Log in with GitHub").click()
    # GitHub's consent page (the simulator's): who approves, then "Authorize".
    page.get_by_label("Signed in as").fill(login)
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator("header .who")).to_contain_text(login)


def test_a_maintainer_follows_a_failed_task_to_its_answer_and_replays_its_job(
    page: Page, world: World
) -> None:
    page.goto(f"{world.app_url}/dashboard")
    expect(page.get_by_role("link", name="Log in with GitHub")).to_be_visible()
    shot(page, "login")
    log_in(page, world, MAINTAINER)
    assert page.url == f"{world.app_url}/dashboard"
    expect(page.get_by_role("cell", name="octo-org")).to_be_visible()
    shot(page, "installations")

    page.get_by_role("link", name="octo-org").click()
    expect(page.get_by_role("link", name=VISIBLE)).to_be_visible()
    expect(page.get_by_text(HIDDEN)).to_have_count(0)

    page.get_by_role("link", name=VISIBLE).click()
    shot(page, "repository")
    page.get_by_role("link", name="#7").click()
    expect(page.locator("#task-1")).to_contain_text("failed")
    expect(page.locator("#task-1")).to_contain_text("/issuewright retry")
    shot(page, "run")

    page.get_by_role("link", name=f"Attempt {world.rows.attempt_id}").click()
    expect(page.locator("#answer")).to_have_text(ANSWER)
    expect(page.locator("#refusals")).to_contain_text(REFUSAL)
    shot(page, "attempt")

    page.goto(f"{world.app_url}/dashboard/runs/{world.rows.live_run}")
    expect(page.locator("#task-1")).to_contain_text("1,834 tokens so far, 38 s")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)
    shot(page, "live")

    page.get_by_role("link", name="Jobs and deliveries").click()
    row = page.locator(f"#job-{world.rows.visible_job}")
    expect(row).to_contain_text("dead")
    expect(page.locator(f"#job-{world.rows.hidden_job}")).to_have_count(0)
    shot(page, "jobs")
    row.get_by_role("button", name="Replay").click()
    expect(page.locator(f"#job-{world.rows.visible_job}")).to_contain_text("queued")
    assert world.job_status(world.rows.visible_job) == "queued"
    assert world.job_status(world.rows.hidden_job) == "dead"

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in with GitHub")).to_be_visible()
    page.goto(f"{world.app_url}/dashboard/runs/{world.rows.visible_run}")
    expect(page.get_by_role("link", name="Log in with GitHub")).to_be_visible()
    expect(page.get_by_text("Fix add")).to_have_count(0)


def test_a_person_who_cannot_push_sees_nothing_of_the_repository(page: Page, world: World) -> None:
    log_in(page, world, READER)
    expect(page.get_by_text("No installation you can push to")).to_be_visible()
    for path in (
        f"/dashboard/runs/{world.rows.visible_run}",
        f"/dashboard/attempts/{world.rows.attempt_id}",
        f"/dashboard/repositories/{world.rows.calc_id}",
    ):
        response = page.goto(f"{world.app_url}{path}")
        assert response is not None and response.status == 404, path
        expect(page.get_by_text(ANSWER)).to_have_count(0)
    page.goto(f"{world.app_url}/dashboard/jobs")
    expect(page.get_by_role("button", name="Replay")).to_have_count(0)
    expect(page.get_by_text(HIDDEN_TITLE)).to_have_count(0)
