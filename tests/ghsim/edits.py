"""Scenario actions the tracker tests need beyond `PeopleAct`: editing a comment (ticking a
checkbox in the app's status comment), CI output on a check run, and a push and a review whose
webhooks carry what GitHub's schema requires (see the notes on each)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import events
from .routes_pulls import refresh_shas
from .state import Review, ReviewComment, now_iso
from .webhooks import fill, template

if TYPE_CHECKING:
    from .simulator import GitHubSimulator
    from .state import CheckRun, Comment


async def edit_comment(sim: GitHubSimulator, comment_id: int, body: str, user: str) -> Comment:
    """`user` edits a comment (anyone's, as people with write access can): sends
    `issue_comment.edited` with `changes.body.from`, sent by the editor, as GitHub does."""
    comment = sim.state.comments[comment_id]
    old = comment.body
    comment.body, comment.updated_at = body, now_iso()
    issue = comment.repo.issues[comment.issue_number]
    payload = events.issue_comment(sim, comment.repo, issue, comment, "edited")
    payload["changes"] = {"body": {"from": old}}
    payload["sender"] = fill(
        template("issue_comment", "edited")["sender"], sim.render.user(sim.state.user(user))
    )
    sim._emit("issue_comment", payload)
    await sim.flush()
    return comment


def set_check_output(
    run: CheckRun, summary: str, annotations: list[dict[str, Any]] | None = None
) -> None:
    """What a CI job writes to its check run: a summary and line annotations."""
    run.output["summary"] = summary
    run.annotations = list(annotations or [])


async def push_commit(
    sim: GitHubSimulator,
    repo: str,
    branch: str,
    files: dict[str, str | bytes | None],
    author: str,
    message: str = "Human commit",
) -> str:
    """`PeopleAct.push_commit`, plus the `before` / `after` shas GitHub's
    `pull_request.synchronize` carries (its schema requires them; the app reads `after`)."""
    r = sim.repo(repo)
    before = r.git.branch_sha(branch)
    sha = r.git.commit_files(
        branch, files, message, sim.author(author), start_point=r.default_branch
    )
    for issue in list(r.issues.values()):
        if issue.pull and issue.state == "open" and issue.pull.head == branch:
            refresh_shas(r, issue)
            payload = events.pull_request(sim, r, issue, "synchronize", sim.state.user(author))
            payload.update(before=before, after=sha)
            sim._emit("pull_request", payload)
    await sim.flush()
    return sha


async def submit_review(
    sim: GitHubSimulator,
    repo: str,
    number: int,
    user: str,
    state: str,
    body: str = "",
    comments: Iterable[tuple[str, int, str]] = (),
) -> Review:
    """`PeopleAct.submit_review`, with the PR's requested reviewers in the user shape the
    webhook schema wants (`events.pull_request_review` leaves them in the REST shape), and
    the reviewer no longer requested once they reviewed, as on GitHub."""
    r = sim.repo(repo)
    issue = r.issues[number]
    pr = issue.pull
    assert pr is not None, f"#{number} is not a PR"
    refresh_shas(r, issue)
    author = sim.state.user(user)
    pr.requested_reviewers = [u for u in pr.requested_reviewers if u is not author]
    review = Review(sim.state.new_id(), author, state, body, pr.head_sha)
    pr.reviews.append(review)
    for path, line, text in comments:
        pr.review_comments.append(
            ReviewComment(sim.state.new_id(), review.id, author, text, path, line, pr.head_sha)
        )
    payload = events.pull_request_review(sim, r, issue, review, "submitted")
    shape = template("issues", "opened")["sender"]
    payload["pull_request"]["requested_reviewers"] = [
        fill(shape, sim.render.user(u)) for u in pr.requested_reviewers
    ]
    sim._emit("pull_request_review", payload)
    await sim.flush()
    return review
