"""Check runs and CI logs: the part of `GitHubAPI` the tracker and CI fixes use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from githubkit import GitHub

from bot.core.publish import publishable
from bot.github.client import GitHubError, call, github_errors, read_json
from bot.github.models import Annotation, CheckRun
from bot.settings import Settings


class ChecksAPI:
    """Pagination, and the check-run calls; `GitHubAPI` adds the rest."""

    gh: GitHub[Any]
    settings: Settings | None

    def _public(self, text: str) -> str:
        """Every text the App publishes leaves through here: URL user-info, the configured
        secrets and credential patterns are scrubbed exactly as in the logs, whoever wrote
        the text (an error message can quote a URL or a key the code never meant to show)."""
        return publishable(text, self.settings.secrets() if self.settings is not None else ())

    def _public_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        output = fields.get("output")
        if isinstance(output, dict):
            public = {
                k: self._public(v)
                if k in ("title", "summary", "text") and isinstance(v, str)
                else v
                for k, v in output.items()
            }
            fields = {**fields, "output": public}
        return fields

    async def _pages(
        self, method: Callable[..., Any], pick: str | None = None, **kw: Any
    ) -> list[Any]:
        """Every item of a paginated list; `pick` names the key holding the items when the
        response is an object (check runs) rather than a list."""

        def items(response: Any) -> list[Any]:
            data = read_json(response.raw_response)
            return list((data or {}).get(pick, []) if pick else data or [])

        with github_errors():
            return [item async for item in self.gh.rest.paginate(method, items, per_page=100, **kw)]

    async def create_check_run(
        self,
        owner: str,
        repo: str,
        *,
        name: str,
        head_sha: str,
        status: Literal["queued", "in_progress", "completed"] = "in_progress",
        **fields: Any,
    ) -> CheckRun:
        """`fields`: details_url, external_id, conclusion, output={title, summary, text,
        annotations}."""
        checks = self.gh.rest.checks
        fields = self._public_fields(fields)
        data = await call(
            lambda: checks.async_create(
                owner, repo, name=name, head_sha=head_sha, status=status, **fields
            )
        )
        return CheckRun.of(data)

    async def update_check_run(
        self, owner: str, repo: str, check_run_id: int, **fields: Any
    ) -> CheckRun:
        """`fields`: status, conclusion, details_url, output={title, summary, ...}."""
        checks = self.gh.rest.checks
        fields = self._public_fields(fields)
        return CheckRun.of(
            await call(lambda: checks.async_update(owner, repo, check_run_id, **fields))
        )

    async def list_check_runs(
        self, owner: str, repo: str, ref: str, *, check_name: str | None = None
    ) -> list[CheckRun]:
        kw: dict[str, Any] = {"check_name": check_name} if check_name else {}
        method = self.gh.rest.checks.async_list_for_ref
        items = await self._pages(method, "check_runs", owner=owner, repo=repo, ref=ref, **kw)
        return [CheckRun.of(item) for item in items]

    async def job_log(self, owner: str, repo: str, job_id: int) -> str | None:
        """An Actions job's log (for Actions, a check run's id is its job's id); None when the
        app may not read it (no `actions: read`) or the log is gone."""
        url = f"/repos/{owner}/{repo}/actions/jobs/{job_id}/logs"
        try:
            with github_errors():  # githubkit follows the redirect to the log host
                response = await self.gh.arequest("GET", url)
        except GitHubError as exc:
            if exc.status in (403, 404, 410):
                return None
            raise
        return response.raw_response.text

    async def check_run_annotations(
        self, owner: str, repo: str, check_run_id: int
    ) -> list[Annotation]:
        method = self.gh.rest.checks.async_list_annotations
        items = await self._pages(method, owner=owner, repo=repo, check_run_id=check_run_id)
        return [Annotation.of(item) for item in items]
