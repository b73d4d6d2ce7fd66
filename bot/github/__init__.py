"""GitHub access: the githubkit App client, installation clients, and thin typed wrappers.

- `client`: App client from settings, installation clients, the shared transport, the
  rate-limit monitor and retry policy, installation tokens, error mapping;
- `models`: lenient dataclasses read from GitHub's JSON;
- `api`: `GitHubAPI`, one method per thing the bot does on GitHub.

Everything public is re-exported here, so `from bot.github import X` does not depend on
which module X lives in.
"""

from bot.github.api import ROLES, GitHubAPI, Reaction
from bot.github.client import (
    GitHubError,
    InstallationToken,
    RateLimited,
    RateLimitMonitor,
    RetryShortRateLimit,
    call,
    close_app_github,
    create_installation_token,
    github_errors,
    installation_client,
    make_app_github,
    rate_limit_monitor,
    read_json,
)
from bot.github.models import (
    Annotation,
    CheckRun,
    Comment,
    Issue,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
)

__all__ = [
    "ROLES",
    "Annotation",
    "CheckRun",
    "Comment",
    "GitHubAPI",
    "GitHubError",
    "InstallationToken",
    "Issue",
    "PullRequest",
    "RateLimitMonitor",
    "RateLimited",
    "Reaction",
    "Repository",
    "RetryShortRateLimit",
    "Review",
    "ReviewComment",
    "call",
    "close_app_github",
    "create_installation_token",
    "github_errors",
    "installation_client",
    "make_app_github",
    "rate_limit_monitor",
    "read_json",
]
