"""Label values of the metrics: fixed sets, and what to do with anything outside them (pure).

A label value never comes from what a delivery, an LLM endpoint or a database row says:
each distinct value is a new series kept in memory for the life of the process and sent in
every scrape, so an open set would let anyone outside the server grow both.
"""

from __future__ import annotations

from collections.abc import Iterable

JOB_STATUSES = ("queued", "running", "dead", "done")
OTHER = "other"  # the label value of anything outside a metric's known set

# Every event GitHub sends to Apps (docs: "Webhook events and payloads"); a fixed set, so an
# unknown or hostile X-GitHub-Event cannot add a series.
GITHUB_EVENTS = frozenset(
    """branch_protection_configuration branch_protection_rule check_run check_suite
    code_scanning_alert commit_comment create custom_property custom_property_values delete
    dependabot_alert deploy_key deployment deployment_protection_rule deployment_review
    deployment_status discussion discussion_comment fork github_app_authorization gollum
    installation installation_repositories installation_target issue_comment issue_dependencies
    issues label marketplace_purchase member membership merge_group meta milestone org_block
    organization package page_build personal_access_token_request ping project project_card
    project_column projects_v2 projects_v2_item projects_v2_status_update public pull_request
    pull_request_review pull_request_review_comment pull_request_review_thread push
    registry_package release repository repository_advisory repository_dispatch
    repository_import repository_ruleset repository_vulnerability_alert secret_scanning_alert
    secret_scanning_alert_location secret_scanning_scan security_advisory
    security_and_analysis sponsorship star status sub_issues team team_add watch
    workflow_dispatch workflow_job workflow_run""".split()
)
DELIVERY_OUTCOMES = frozenset({"stored", "duplicate", "ignored"})
JOB_KINDS = frozenset({"delivery", "generate", "ci_fix", "review"})
JOB_OUTCOMES = frozenset({"done", "retry", "dead"})
# Why POST /webhooks/github refused a delivery before storing it (web/webhooks.py), in the
# order it checks: no secret configured (503), body over 25 MiB (413), X-Hub-Signature-256
# absent, not `sha256=` and 64 hex digits, or not matching the body (401), X-GitHub-Event or
# X-GitHub-Delivery absent or malformed, body not a UTF-8 JSON object (400), and the database
# not taking it in time (503).
WEBHOOK_REJECTIONS = (
    "no_secret",
    "too_large",
    "signature_missing",
    "signature_malformed",
    "signature_mismatch",
    "bad_headers",
    "bad_body",
    "store_unavailable",
)
UNKNOWN_MODEL = "unknown"  # a call whose model is not known at all


def bounded(value: str | None, known: Iterable[str]) -> str:
    """`value` if it is one of `known`, else "other"."""
    return value if value is not None and value in known else OTHER


def bucketed(counts: dict[str, int], known: Iterable[str]) -> dict[str, int]:
    """Counts keyed by known values (all present, at zero if need be), the rest summed as
    "other" (present only when something is there)."""
    out = dict.fromkeys(known, 0)
    for key, n in counts.items():
        label = bounded(key, out)
        out[label] = out.get(label, 0) + n
    return out
