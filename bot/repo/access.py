"""One repository as a job sees it: its installation API, config, mirror and code map."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.context import RepoMap
from bot.context.map_cache import APP_MAPS_KEPT, cached_map
from bot.core.policy import load_repo_config
from bot.git import cmd as git_cmd
from bot.git import worktrees as workspace
from bot.github import GitHubAPI, Repository
from bot.prompts.overrides import overrides_at
from bot.runtime import HandlerContext
from bot.settings import CONFIG_PATH, RepoConfig

REPO_MAPS_IN_MEMORY = 4  # a few repositories' maps; each is tens of MB for a large repo


class NotConfigured(RuntimeError):
    """The app has no GitHub credentials; nothing can be done on GitHub."""

    retryable = False


class BaseBranchMissing(git_cmd.GitError):
    """The branch work starts from is not in the repository (a typo in `base_branch`?).
    Retrying cannot help: the people who wrote the config must fix it."""

    retryable = False

    def __init__(self, branch: str) -> None:
        self.branch = branch
        super().__init__(
            f"the base branch `{branch}` does not exist in the repository; fix `base_branch` "
            f"in `{CONFIG_PATH}` (or remove it to use the default branch)"
        )


class RepositoryReplaced(RuntimeError):
    """The name now belongs to another repository (deleted and re-created, or re-registered
    by someone else): work stored for the old one must never reach the new one."""

    retryable = False

    def __init__(self, full_name: str) -> None:
        super().__init__(
            f"{full_name} is no longer the repository this work was started in (its id "
            "changed); its tasks stay where they are"
        )


@dataclass
class RepoAccess:
    ctx: HandlerContext
    installation_id: int
    full_name: str
    api: GitHubAPI
    # GitHub's id of the repository the work belongs to; None only before it is known.
    repository_id: int | None = None
    _meta: Repository | None = None
    _config: tuple[RepoConfig, list[str]] | None = None
    _base_sha: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        ctx: HandlerContext,
        installation_id: int | None,
        full_name: str,
        repository_id: int | None = None,
    ) -> RepoAccess:
        if ctx.github is None:
            raise NotConfigured("the GitHub App is not configured (APP_ID / PRIVATE_KEY missing)")
        if installation_id is None:
            raise NotConfigured(f"no installation for {full_name}")
        return cls(ctx, installation_id, full_name, ctx.github.api(installation_id), repository_id)

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]

    async def meta(self) -> Repository:
        if self._meta is None:
            meta = await self.api.repository(self.owner, self.name)
            if self.repository_id is None:
                self.repository_id = meta.id
            elif meta.id is not None and meta.id != self.repository_id:
                raise RepositoryReplaced(self.full_name)
            self._meta = meta
        return self._meta

    async def identity(self) -> int:
        """GitHub's id of this repository (from the delivery, else asked once)."""
        if self.repository_id is None:
            await self.meta()
        if self.repository_id is None:
            raise RuntimeError(f"GitHub did not say which repository {self.full_name} is")
        return self.repository_id

    async def config(self) -> tuple[RepoConfig, list[str]]:
        """`.github/issuewright.yml` at the default branch, with the problems found in it."""
        if self._config is None:
            meta = await self.meta()
            text = await self.api.file_contents(
                self.owner, self.name, CONFIG_PATH, meta.default_branch
            )
            # Up to 64 KB of YAML parsed in pure Python: off the event loop, like planning.
            policy = self.ctx.settings.policy
            self._config = await asyncio.to_thread(load_repo_config, text, policy)
        return self._config

    async def base_branch(self) -> str:
        config, _ = await self.config()
        return config.base_branch or (await self.meta()).default_branch

    def repo_ref(self) -> git_cmd.RepoRef:
        settings = self.ctx.settings
        template = settings.git_url_template or f"{settings.github_web_url}/{{owner}}/{{repo}}.git"
        return git_cmd.RepoRef(self.owner, self.name, template, Path(settings.data_dir))

    async def git_token(self) -> str | None:
        if self.ctx.settings.git_url_template and self.ctx.settings.git_url_template.startswith(
            "file:"
        ):
            return None  # local remotes (tests, air-gapped mirrors) need no token
        return await self.ctx.require_github().git_token(self.installation_id)

    async def sync_mirror(self) -> Path:
        token = await self.git_token()
        return await asyncio.to_thread(workspace.ensure_mirror, self.repo_ref(), token=token)

    async def base_sha(self, branch: str | None = None) -> str:
        branch = branch or await self.base_branch()
        if branch not in self._base_sha:
            mirror = await self.sync_mirror()
            out = await asyncio.to_thread(
                git_cmd.git,
                "rev-parse",
                "--verify",
                "--quiet",
                f"{git_cmd.REMOTE_REFS}/{branch}^{{commit}}",
                cwd=mirror,
                check=False,
            )
            if out.returncode != 0 or not out.stdout.strip():
                raise BaseBranchMissing(branch)
            self._base_sha[branch] = out.stdout.strip()
        return self._base_sha[branch]

    async def repo_map(self) -> RepoMap:
        """The code map at the base commit: from this process's memory, else the disk cache,
        else built (seconds for a large repository, so it is kept at every level)."""
        sha = await self.base_sha()
        mirror = self.repo_ref().mirror
        maps: OrderedDict[tuple[str, str], RepoMap] = self.ctx.extras.setdefault(
            "repo_maps", OrderedDict()
        )
        key = (str(mirror), sha)
        if key in maps:
            maps.move_to_end(key)
            return maps[key]
        cache = Path(self.ctx.settings.data_dir) / "repomaps"
        repo_map = await asyncio.to_thread(cached_map, mirror, sha, cache, keep=APP_MAPS_KEPT)
        maps[key] = repo_map
        while len(maps) > REPO_MAPS_IN_MEMORY:
            maps.popitem(last=False)
        return repo_map

    async def prompt_overrides(self) -> dict[str, str]:
        """Templates the repository overrides, read from the mirror at the base commit."""
        sha = await self.base_sha()
        return await asyncio.to_thread(overrides_at, self.repo_ref().mirror, sha)

    def web_url(self, *parts: Any) -> str:
        return "/".join([self.ctx.settings.github_web_url, self.full_name, *map(str, parts)])
