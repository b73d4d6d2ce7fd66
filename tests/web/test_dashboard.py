"""`/dashboard` through the real app and the GitHub simulator's OAuth web flow (in process):
who sees what, the CSRF token on every POST, the session's expiry on the app's clock, and
the page that says what to configure. The browser runs the same flows in
tests/e2e/test_dashboard_browser.py."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from githubkit.cache import MemCacheStrategy

from bot.core.dashboard_access import SESSION_MAX_AGE_SECONDS
from bot.github.access import GitHubAccess
from bot.settings import Settings
from bot.store.models import Job
from bot.web.dashboard_session import session_config
from bot.web.templating import inline_code
from tests.conftest import make_settings
from tests.ghsim.simulator import GitHubSimulator
from tests.harness import Harness, running_app
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
    approve,
    github_people,
    log_in,
    seed,
)

PUBLIC = "http://testserver.local"
T0 = 1_800_000_000.0


@dataclass
class Dash:
    harness: Harness
    sim: GitHubSimulator
    rows: Seeded
    now: list[float]

    @property
    def client(self) -> Any:
        return self.harness.client

    async def page(self, path: str) -> Any:
        return await self.client.get(path, follow_redirects=False)

    async def job_status(self, job_id: int) -> str:
        async with self.harness.sessions() as session:
            job = await session.get(Job, job_id)
            return job.status


@pytest.fixture
async def dash(tmp_path: Path, sqlite_url: str, github_sim: GitHubSimulator) -> AsyncIterator[Dash]:
    github_people(github_sim)
    settings = make_settings(
        tmp_path,
        sqlite_url,
        **github_sim.settings_overrides(),
        **github_sim.oauth_settings(PUBLIC),
        admin_logins=(OPERATOR,),
    )
    access = GitHubAccess.from_settings(
        settings, transport=github_sim.transport(), cache_strategy=MemCacheStrategy()
    )
    async with running_app(settings, github=access) as harness:
        now = [T0]
        harness.app.state.clock = lambda: now[0]
        rows = await seed(harness.sessions, github_sim)
        yield Dash(harness, github_sim, rows, now)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def test_without_oauth_credentials_nothing_is_shown_but_what_to_configure(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with running_app(make_settings(tmp_path, sqlite_url)) as harness:
        pages = [
            await harness.client.get(p)
            for p in ("/dashboard", "/dashboard/jobs", "/dashboard/runs/1")
        ]
        login = await harness.client.get("/dashboard/login", follow_redirects=False)
        forged = await harness.client.post("/dashboard/jobs/1/replay", data={})
    for page in [*pages, login]:
        assert page.status_code == 200
        assert "CLIENT_ID" in page.text and "CLIENT_SECRET" in page.text
        assert "/dashboard/login/callback" in page.text and "ADMIN_LOGINS" in page.text
        assert "set-cookie" not in page.headers
    assert forged.status_code == 200 and "CLIENT_ID" in forged.text  # the same page, no replay


async def test_a_maintainer_sees_only_what_they_can_push_to(dash: Dash) -> None:
    callback = await log_in(dash.client, dash.sim, MAINTAINER)
    assert callback.status_code == 303 and callback.headers["location"] == "/dashboard"
    cookie = callback.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http here
    secure = session_config(Settings(client_id="c", client_secret="s", public_url="https://x.io"))
    assert secure is not None and secure.secure and secure.httponly
    # Already logged in, the login link goes home instead of starting over (or logging out).
    again = await dash.page("/dashboard/login")
    assert again.status_code == 303 and again.headers["location"] == "/dashboard"

    home = await dash.page("/dashboard")
    inst = await dash.page(f"/dashboard/installations/{dash.rows.installation_id}")
    repo = await dash.page(f"/dashboard/repositories/{dash.rows.calc_id}")
    run = await dash.page(f"/dashboard/runs/{dash.rows.visible_run}")
    attempt = await dash.page(f"/dashboard/attempts/{dash.rows.attempt_id}")
    jobs = await dash.page("/dashboard/jobs")
    assert "octo-org" in home.text and "$0.01 of $50.00" in home.text
    assert VISIBLE in inst.text and HIDDEN not in inst.text
    assert "#7" in repo.text and "Fix add" in repo.text
    assert "failed" in run.text and "$0.0123" in run.text
    # The failure as the status comment says it: once, with one action and the attempt page.
    assert run.text.count("<code>/issuewright retry task 1</code>") == 1
    assert "answer refused" in run.text
    assert f'href="/dashboard/attempts/{dash.rows.attempt_id}">See what was refused' in run.text
    assert ANSWER in attempt.text and REFUSAL in attempt.text
    assert "LLM endpoint timed out" in jobs.text and "Replay" in jobs.text
    assert "secret job failed" not in jobs.text and "d-secret" not in jobs.text
    for page in (home, inst, repo, run, attempt, jobs):
        assert page.status_code == 200 and HIDDEN_TITLE not in page.text
        assert "<script" not in page.text
    # Pages reload themselves while something shown on them runs, and only then.
    live = await dash.page(f"/dashboard/runs/{dash.rows.live_run}")
    assert "1,834 tokens so far, 38 s" in live.text
    assert 'http-equiv="refresh"' in live.text and 'http-equiv="refresh"' in repo.text
    assert 'http-equiv="refresh"' not in run.text and 'http-equiv="refresh"' not in attempt.text
    for path in (
        f"/dashboard/repositories/{dash.rows.secret_id}",
        f"/dashboard/runs/{dash.rows.hidden_run}",
    ):
        assert (await dash.page(path)).status_code == 404
    refused = await dash.client.post(
        f"/dashboard/jobs/{dash.rows.hidden_job}/replay", data={"csrf": csrf_of(jobs.text)}
    )
    assert refused.status_code == 404 and await dash.job_status(dash.rows.hidden_job) == "dead"


async def test_a_person_without_write_permission_sees_nothing(dash: Dash) -> None:
    assert (await log_in(dash.client, dash.sim, READER)).status_code == 303
    home = await dash.page("/dashboard")
    assert READER in home.text and "No installation you can push to" in home.text
    for path in (
        f"/dashboard/installations/{dash.rows.installation_id}",
        f"/dashboard/repositories/{dash.rows.calc_id}",
        f"/dashboard/runs/{dash.rows.visible_run}",
        f"/dashboard/attempts/{dash.rows.attempt_id}",
    ):
        assert (await dash.page(path)).status_code == 404, path
    jobs = await dash.page("/dashboard/jobs")
    assert "LLM endpoint timed out" not in jobs.text and "Replay" not in jobs.text
    replay = await dash.client.post(
        f"/dashboard/jobs/{dash.rows.visible_job}/replay", data={"csrf": csrf_of(jobs.text)}
    )
    assert replay.status_code == 404 and await dash.job_status(dash.rows.visible_job) == "dead"


async def test_an_operator_sees_every_installation_and_job(dash: Dash) -> None:
    await log_in(dash.client, dash.sim, OPERATOR)
    inst = await dash.page(f"/dashboard/installations/{dash.rows.installation_id}")
    hidden = await dash.page(f"/dashboard/runs/{dash.rows.hidden_run}")
    jobs = await dash.page("/dashboard/jobs")
    assert VISIBLE in inst.text and HIDDEN in inst.text and "(operator)" in inst.text
    assert HIDDEN_TITLE in hidden.text
    assert "secret job failed" in jobs.text and jobs.text.count(">Replay<") == 2


async def test_every_post_needs_the_session_csrf_token(dash: Dash) -> None:
    await log_in(dash.client, dash.sim, MAINTAINER)
    token = csrf_of((await dash.page("/dashboard/jobs")).text)
    job = dash.rows.visible_job

    forged = await dash.client.post(f"/dashboard/jobs/{job}/replay", data={})
    wrong = await dash.client.post(f"/dashboard/jobs/{job}/replay", data={"csrf": "x" * 43})
    assert forged.status_code == wrong.status_code == 403
    assert await dash.job_status(job) == "dead"
    replayed = await dash.client.post(
        f"/dashboard/jobs/{job}/replay", data={"csrf": token}, follow_redirects=False
    )
    assert replayed.status_code == 303 and await dash.job_status(job) == "queued"
    again = await dash.client.post(
        f"/dashboard/jobs/{job}/replay", data={"csrf": token}, follow_redirects=False
    )
    assert again.status_code == 303 and await dash.job_status(job) == "queued"

    kept = await dash.client.post("/dashboard/logout", data={})
    assert kept.status_code == 403 and MAINTAINER in (await dash.page("/dashboard")).text
    out = await dash.client.post("/dashboard/logout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303
    after = await dash.page("/dashboard")
    assert "Log in with GitHub" in after.text and "octo-org" not in after.text


async def test_a_session_expires_on_the_apps_clock(dash: Dash) -> None:
    await log_in(dash.client, dash.sim, MAINTAINER)
    dash.now[0] = T0 + SESSION_MAX_AGE_SECONDS - 1
    assert "octo-org" in (await dash.page("/dashboard")).text
    dash.now[0] = T0 + SESSION_MAX_AGE_SECONDS
    home = await dash.page("/dashboard")
    run = await dash.page(f"/dashboard/runs/{dash.rows.visible_run}")
    assert "Log in with GitHub" in home.text and "octo-org" not in home.text
    assert run.status_code == 303 and run.headers["location"] == "/dashboard"


async def test_the_callback_needs_the_state_this_browser_was_given(dash: Dash) -> None:
    start = await dash.page("/dashboard/login")
    back = await approve(dash.sim, start.headers["location"], MAINTAINER)
    forged = re.sub(r"state=[^&]+", "state=forged", back.split("/dashboard/login/callback", 1)[1])
    refused = await dash.page(f"/dashboard/login/callback{forged}")
    assert refused.status_code == 403 and "log in again" in refused.text
    assert "Log in with GitHub" in (await dash.page("/dashboard")).text
    # GitHub's own refusal (the person pressed Cancel) is said, not a crash.
    start = await dash.page("/dashboard/login")
    state = re.search(r"state=([^&]+)", start.headers["location"]).group(1)
    denied = await dash.page(f"/dashboard/login/callback?error=access_denied&state={state}")
    assert denied.status_code == 403 and "access_denied" in denied.text


async def test_the_user_token_is_never_in_a_page_a_cookie_or_the_log(
    dash: Dash, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    callback = await log_in(dash.client, dash.sim, MAINTAINER)
    pages = [await dash.page(p) for p in ("/dashboard", f"/dashboard/runs/{dash.rows.visible_run}")]
    (token,) = dash.sim.user_tokens
    assert "dashboard login: octocat" in caplog.text
    seen = caplog.text + callback.headers["set-cookie"] + "".join(p.text for p in pages)
    assert token not in seen and token.removeprefix("ghu_") not in seen


def test_a_notice_shows_code_spans_and_escapes_everything_else() -> None:
    shown = inline_code("<script>x</script> — comment `/issuewright retry` `<b>`")
    assert shown == (
        "&lt;script&gt;x&lt;/script&gt; — comment <code>/issuewright retry</code> "
        "<code>&lt;b&gt;</code>"
    )
