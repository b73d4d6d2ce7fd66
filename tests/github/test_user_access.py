"""Logging in with GitHub (bot/github/user_access.py) against the simulator's OAuth web flow,
and the simulator's flow itself held to GitHub's documented answers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.github.user_access import LoginFailed, user_access
from bot.settings import Settings
from tests.ghsim.simulator import GitHubSimulator
from tests.web.dashboard_helpers import MAINTAINER, READER, VISIBLE, approve, github_people

CALLBACK = "https://dash.example.com/dashboard/login/callback"


def authorize_url(sim: GitHubSimulator, redirect_uri: str = CALLBACK, state: str = "s1") -> str:
    return (
        f"https://github.com/login/oauth/authorize?client_id={sim.oauth_client_id}"
        f"&redirect_uri={redirect_uri}&state={state}"
    )


async def code_for(sim: GitHubSimulator, login: str) -> str:
    back = urlsplit(await approve(sim, authorize_url(sim), login))
    query = parse_qs(back.query)
    assert query["state"] == ["s1"]
    return query["code"][0]


@pytest.fixture
def settings(github_sim: GitHubSimulator) -> Settings:
    github_people(github_sim)
    return Settings(
        **github_sim.settings_overrides(), **github_sim.oauth_settings("https://dash.example.com")
    )


async def test_a_login_reads_only_what_the_persons_token_lists(
    github_sim: GitHubSimulator, settings: Settings
) -> None:
    maintainer = await user_access(
        settings, await code_for(github_sim, MAINTAINER), CALLBACK, transport=github_sim.transport()
    )
    reader = await user_access(
        settings, await code_for(github_sim, READER), CALLBACK, transport=github_sim.transport()
    )
    assert maintainer.login == MAINTAINER and reader.login == READER
    (repos,) = maintainer.repositories.values()
    assert [(r["full_name"], r["permissions"]["push"]) for r in repos] == [(VISIBLE, True)]
    pushes = {
        r["full_name"]: r["permissions"]["push"] for rs in reader.repositories.values() for r in rs
    }
    assert pushes == {VISIBLE: False, "octo-org/secret": False}
    # Each code was exchanged once, for one token each.
    assert len(github_sim.user_tokens) == 2 and not github_sim.oauth_codes


async def test_a_used_or_forged_code_fails_the_login_in_one_line(
    github_sim: GitHubSimulator, settings: Settings
) -> None:
    code = await code_for(github_sim, MAINTAINER)
    await user_access(settings, code, CALLBACK, transport=github_sim.transport())
    for bad in (code, "forged"):
        with pytest.raises(LoginFailed) as failed:
            await user_access(settings, bad, CALLBACK, transport=github_sim.transport())
        assert "\n" not in str(failed.value) and settings.client_secret not in str(failed.value)
    wrong_secret = settings.with_(client_secret="not-the-secret")
    with pytest.raises(LoginFailed):
        await user_access(
            wrong_secret,
            await code_for(github_sim, MAINTAINER),
            CALLBACK,
            transport=github_sim.transport(),
        )


async def test_the_token_endpoint_answers_as_github_documents(github_sim: GitHubSimulator) -> None:
    github_people(github_sim)
    github_sim.oauth_callback_urls = [CALLBACK]
    form = {
        "client_id": github_sim.oauth_client_id,
        "client_secret": github_sim.oauth_client_secret,
    }
    async with httpx.AsyncClient(
        transport=github_sim.transport(), base_url="https://github.com"
    ) as web:
        code = await code_for(github_sim, MAINTAINER)
        as_form = await web.post("/login/oauth/access_token", data={**form, "code": code})
        again = await web.post(
            "/login/oauth/access_token",
            data={**form, "code": code},
            headers={"Accept": "application/json"},
        )
        code = await code_for(github_sim, MAINTAINER)
        as_json = await web.post(
            "/login/oauth/access_token",
            data={**form, "code": code},
            headers={"Accept": "application/json"},
        )
        elsewhere = await web.get(
            "/login/oauth/authorize",
            params={
                "client_id": github_sim.oauth_client_id,
                "redirect_uri": "https://evil.example/cb",
                "state": "s",
            },
        )
    assert as_form.status_code == again.status_code == as_json.status_code == 200
    granted = parse_qs(as_form.text)
    assert as_form.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert granted["access_token"][0].startswith("ghu_") and granted["token_type"] == ["bearer"]
    assert again.json()["error"] == "bad_verification_code"  # a code works once
    assert (
        as_json.json()["access_token"].startswith("ghu_") and as_json.json()["expires_in"] == 28800
    )
    assert elsewhere.status_code == 302
    assert elsewhere.headers["location"].startswith(f"{CALLBACK}?error=redirect_uri_mismatch")
