"""An in-process GitHub for tests: REST subset, real bare git remotes, signed webhooks, and
every request and response checked against GitHub's OpenAPI description.

Use the `github_sim` / `github_api` fixtures from `tests.ghsim.fixtures` (a pytest plugin).
"""

from .openapi import SchemaViolation, Violation
from .people import CI_APP_ID
from .simulator import GitHubSimulator
from .webhooks import Delivery, http_sink, sign

__all__ = [
    "CI_APP_ID",
    "Delivery",
    "GitHubSimulator",
    "SchemaViolation",
    "Violation",
    "http_sink",
    "sign",
]
