"""What every renderer needs: base URLs, users, and spec examples retargeted to the sim."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from .state import AppInfo, Repo, User


def node_id(kind: str, id: int) -> str:
    return base64.b64encode(f"{kind}:{id}".encode()).decode()


class RendererBase:
    def __init__(self, api_url: str, web_url: str, app: AppInfo) -> None:
        self.api = api_url.rstrip("/")
        self.web = web_url.rstrip("/")
        self.app_info = app

    def _retarget(self, example: Any, full_name: str = "") -> Any:
        text = json.dumps(example)
        host = urlsplit(self.web).netloc
        if full_name:
            text = text.replace("octocat/Hello-World", full_name)
        text = text.replace("https://api.github.com", self.api)
        text = text.replace("https://github.com", self.web)
        text = text.replace("git@github.com:", f"git@{host}:")
        text = text.replace("git://github.com/", f"git://{host}/")
        return json.loads(text)

    def user(self, u: User) -> dict[str, Any]:
        api = f"{self.api}/users/{u.login}"
        return {
            "login": u.login,
            "id": u.id,
            "node_id": node_id("User", u.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.web}/{u.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": u.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    @staticmethod
    def author_association(repo: Repo, user: User) -> str:
        if user.login == repo.owner.login:
            return "OWNER"
        if repo.permissions.get(user.login, "none") != "none":
            return "COLLABORATOR"
        return "NONE"

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_web(self, repo: Repo) -> str:
        return f"{self.web}/{repo.full_name}"
