"""Write the contract tests' vcrpy cassettes from GitHub's OpenAPI examples.

    .venv/bin/python -m tests.github.make_cassettes

Each response body is an operation's own example in `tests/fixtures/github-openapi/`
(nothing is recorded from the network). Two deliberate changes, both stated here:
- the installation-token example expires in 2016; its `expires_at` is moved to 2099 so
  githubkit caches it for the cassette instead of asking again, and its token-shaped
  string is replaced by `ghs_scrubbed` (secret scanners flag it);
- the file-content example's base64 has its line breaks escaped twice (a backslash and an
  `n`, which no real response has); they are turned back into newlines;
- a 404 has no example in the spec; GitHub's `basic-error` body is written for it.
Requests carry no `Authorization` header (the tests also filter it: `filter_headers`), and
each request body is the one the bot is expected to send (the tests match on it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.ghsim.openapi import openapi

CASSETTES = Path(__file__).parent / "cassettes"
API = "https://api.github.com"
OWNER, REPO, NUMBER = "octocat", "Hello-World", 1347
R = "/repos/{owner}/{repo}"
PARAMS = {"owner": OWNER, "repo": REPO, "issue_number": NUMBER, "pull_number": NUMBER}
NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
REASONS = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found"}


@dataclass
class Step:
    method: str
    template: str
    status: int
    request: Any = None
    query: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = "example"  # "example": the operation's first example for `status`


# githubkit asks for an installation token with an empty JSON object.
TOKEN = Step(
    "POST",
    "/app/installations/{installation_id}/access_tokens",
    201,
    {},
    params={"installation_id": 1},
)
PAGE = {"per_page": "100"}

CASES: dict[str, list[Step]] = {
    "installation_token": [TOKEN],
    "create_comment": [
        TOKEN,
        Step("POST", R + "/issues/{issue_number}/comments", 201, {"body": "Working on it"}),
    ],
    "edit_comment": [
        TOKEN,
        Step(
            "PATCH",
            R + "/issues/comments/{comment_id}",
            200,
            {"body": "Done"},
            params={"comment_id": 1},
        ),
    ],
    "get_comment": [
        TOKEN,
        Step("GET", R + "/issues/comments/{comment_id}", 200, params={"comment_id": 1}),
    ],
    "find_comment": [TOKEN, Step("GET", R + "/issues/{issue_number}/comments", 200, query=PAGE)],
    "react_to_issue": [
        TOKEN,
        Step("POST", R + "/issues/{issue_number}/reactions", 201, {"content": "eyes"}),
    ],
    "add_labels": [
        TOKEN,
        Step("POST", R + "/issues/{issue_number}/labels", 200, {"labels": ["bug"]}),
    ],
    "remove_label": [
        TOKEN,
        Step("DELETE", R + "/issues/{issue_number}/labels/{name}", 200, params={"name": "bug"}),
    ],
    "ensure_label": [
        TOKEN,
        Step("GET", R + "/labels/{name}", 404, params={"name": "bug"}, body=NOT_FOUND),
        Step(
            "POST",
            R + "/labels",
            201,
            {"name": "bug", "color": "f29513", "description": "Something isn't working"},
        ),
    ],
    "permission": [
        TOKEN,
        Step(
            "GET", R + "/collaborators/{username}/permission", 200, params={"username": "octocat"}
        ),
    ],
    "get_issue": [TOKEN, Step("GET", R + "/issues/{issue_number}", 200)],
    "update_issue_body": [
        TOKEN,
        Step("PATCH", R + "/issues/{issue_number}", 200, {"body": "I'm having a problem."}),
    ],
    "file_contents": [
        TOKEN,
        Step(
            "GET", R + "/contents/{path}", 200, query={"ref": "main"}, params={"path": "README.md"}
        ),
    ],
    "repository": [TOKEN, Step("GET", R, 200)],
    "create_pull": [
        TOKEN,
        Step(
            "POST",
            R + "/pulls",
            201,
            {
                "title": "Amazing new feature",
                "head": "new-topic",
                "base": "master",
                "body": "Please pull these awesome changes in!",
                "draft": True,
                "maintainer_can_modify": True,
            },
        ),
    ],
    "find_open_pull": [
        TOKEN,
        Step("GET", R + "/pulls", 200, query={"head": "octocat:new-topic", "state": "open"}),
    ],
    "close_pull": [TOKEN, Step("PATCH", R + "/pulls/{pull_number}", 200, {"state": "closed"})],
    "request_reviewers": [
        TOKEN,
        Step(
            "POST", R + "/pulls/{pull_number}/requested_reviewers", 201, {"reviewers": ["octocat"]}
        ),
    ],
    "list_reviews": [TOKEN, Step("GET", R + "/pulls/{pull_number}/reviews", 200, query=PAGE)],
    "list_review_comments": [
        TOKEN,
        Step("GET", R + "/pulls/{pull_number}/comments", 200, query=PAGE),
    ],
    "delete_branch": [
        TOKEN,
        Step("DELETE", R + "/git/refs/{ref}", 204, params={"ref": "heads/feature-a"}, body=None),
    ],
    "create_check_run": [
        TOKEN,
        Step(
            "POST",
            R + "/check-runs",
            201,
            {
                "name": "mighty_readme",
                "head_sha": "ce587453ced02b1526dfb4cb910479d431683101",
                "status": "in_progress",
            },
        ),
    ],
    "update_check_run": [
        TOKEN,
        Step(
            "PATCH",
            R + "/check-runs/{check_run_id}",
            200,
            {
                "conclusion": "success",
                "output": {"title": "Mighty Readme report", "summary": "There are 0 failures."},
            },
            params={"check_run_id": 4},
        ),
    ],
    "list_check_runs": [
        TOKEN,
        Step("GET", R + "/commits/{ref}/check-runs", 200, query=PAGE, params={"ref": "main"}),
    ],
    "check_run_annotations": [
        TOKEN,
        Step(
            "GET",
            R + "/check-runs/{check_run_id}/annotations",
            200,
            query=PAGE,
            params={"check_run_id": 4},
        ),
    ],
}


def response_body(step: Step) -> Any:
    if step.body != "example":
        return step.body
    body = openapi().response_example(step.method, step.template, step.status)
    if step.template.endswith("/access_tokens"):
        body["expires_at"] = "2099-01-01T00:00:00Z"  # the example's 2016 date has expired
        body["token"] = "ghs_scrubbed"  # token-shaped strings trip secret scanners
    if step.template.endswith("/contents/{path}"):
        body["content"] = body["content"].replace("\\n", "\n")  # the example's escaped newlines
    return body


def interaction(step: Step) -> dict[str, Any]:
    path = step.template.format(**{**PARAMS, **step.params})
    query = "&".join(f"{k}={v}" for k, v in step.query.items())
    body = response_body(step)
    headers = {"x-ratelimit-remaining": ["4999"], "x-ratelimit-limit": ["5000"]}
    if body is not None:
        headers["content-type"] = ["application/json; charset=utf-8"]
    return {
        "request": {
            "method": step.method,
            "uri": f"{API}{path}" + (f"?{query}" if query else ""),
            "body": None if step.request is None else json.dumps(step.request),
            "headers": {},
        },
        "response": {
            "status": {"code": step.status, "message": REASONS[step.status]},
            "headers": headers,
            "body": {"string": "" if body is None else json.dumps(body, indent=1)},
        },
    }


class _Dumper(yaml.SafeDumper):
    """JSON bodies as readable `|` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def main() -> None:
    CASSETTES.mkdir(exist_ok=True)
    for name, steps in CASES.items():
        cassette = {"interactions": [interaction(s) for s in steps], "version": 1}
        text = yaml.dump(cassette, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        (CASSETTES / f"{name}.yaml").write_text(text)
    print(f"wrote {len(CASES)} cassettes to {CASSETTES}")


if __name__ == "__main__":
    main()
