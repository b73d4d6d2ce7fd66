"""docker-compose.yml, the Dockerfile and .dockerignore, checked without a Docker engine: the
compose file parsed as YAML against what the app and the README say, so none of them can drift
from the others."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text()


def section(text: str, heading: str) -> str:
    """The README's text from `heading` to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) :]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)]
    return rest[: ends[0]] if ends else rest


def configuration_table(readme: str) -> set[str]:
    """Variable names in the first column of the README's configuration table."""
    names: set[str] = set()
    for line in section(readme, "## Configuration").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def dockerfile_env() -> dict[str, str]:
    """The final stage's ENV NAME=value pairs (continuation lines joined)."""
    final = dockerfile().split("\nFROM ")[-1].replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in final.splitlines():
        if line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in line[4:].split())
    return env


def test_services_postgres_one_web_and_two_workers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")

    web, worker = services["web"], services["worker"]
    assert web["command"] == ["issuewright", "serve"]
    assert web["environment"]["RUN_WORKER"] == "false"
    assert worker["command"] == ["issuewright", "worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "ports" not in services["db"]  # the database is reached by the app's containers only


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_commands_the_services_run_exist(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    db_check = services["db"]["healthcheck"]["test"]
    assert db_check[0] in {"CMD", "CMD-SHELL"}
    assert "pg_isready" in " ".join(db_check)

    web = services["web"]
    web_check = " ".join(web["healthcheck"]["test"])
    assert f"http://127.0.0.1:{web['environment']['PORT']}/healthz" in web_check
    assert web["healthcheck"]["start_period"]  # migrations run before the server answers
    # A worker serves no HTTP: the image's /healthz check must not mark it unhealthy.
    assert services["worker"]["healthcheck"] == {"disable": True}


def test_start_order_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["depends_on"]["db"]["condition"] == "service_healthy"
    # serve migrates before it answers /healthz: workers never claim from an old schema.
    assert services["worker"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_volumes_for_the_database_and_data_dir(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose["volumes"])
    db_mounts = dict(v.split(":", 1) for v in services["db"]["volumes"])
    assert db_mounts.get("pgdata") == "/var/lib/postgresql/data"
    for name in APP_SERVICES:
        mounts = {
            target: source
            for source, target in (v.split(":", 1) for v in services[name]["volumes"])
        }
        data_dir = services[name]["environment"]["DATA_DIR"]
        assert mounts[data_dir] in declared
        assert mounts[data_dir] != "pgdata"
    assert "pgdata" in declared


def test_app_services_read_dot_env_and_share_one_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    db_env = services["db"]["environment"]
    for name in APP_SERVICES:
        service = services[name]
        assert [entry["path"] for entry in service["env_file"]] == [".env"]
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith(f"postgresql://{db_env['POSTGRES_USER']}:")
        assert url.endswith(f"@db:5432/{db_env['POSTGRES_DB']}")
        assert INTERPOLATION.findall(url) == INTERPOLATION.findall(db_env["POSTGRES_PASSWORD"])


def test_every_setting_it_names_is_in_the_readme_table(
    compose: dict[str, Any], readme: str
) -> None:
    table = configuration_table(readme)
    assert {"DATABASE_URL", "DATA_DIR", "RUN_WORKER", "PUBLIC_URL"} <= table  # the parser works
    for name in APP_SERVICES:
        named = set(compose["services"][name]["environment"])
        assert named <= table, f"{name}: {sorted(named - table)} missing from the README table"


def test_every_variable_it_interpolates_is_documented(readme: str) -> None:
    """`${NAME}` is read from `.env` by Compose itself: the README's Compose section says so."""
    text = (ROOT / "docker-compose.yml").read_text()
    compose_section = section(readme, "### Docker Compose: PostgreSQL and two workers")
    for name in set(INTERPOLATION.findall(text)):
        assert f"{name}=" in compose_section or f"`{name}`" in compose_section, name
    assert "docker compose up" in compose_section


def test_the_image_matches_the_compose_file(compose: dict[str, Any]) -> None:
    env = dockerfile_env()
    web = compose["services"]["web"]
    # The image's working directory is DATA_DIR: /setup's .env lands on the shared volume.
    assert "WORKDIR /data\nUSER issuewright" in dockerfile()
    assert env["DATA_DIR"] == web["environment"]["DATA_DIR"] == "/data"
    assert env["PORT"] == web["environment"]["PORT"]
    assert f"EXPOSE {env['PORT']}" in dockerfile()
    assert web["ports"] == [f"{env['PORT']}:{env['PORT']}"]
    assert env["PATH"].startswith("/venv/bin:")  # `issuewright` as the services call it
    assert "/healthz" in dockerfile().split("HEALTHCHECK", 1)[1]


def test_the_image_runs_a_python_the_project_supports() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    needed = re.search(r'requires-python = ">=(\d+)\.(\d+)"', pyproject)
    assert needed is not None
    for base in re.findall(r"^FROM python:(\d+)\.(\d+)", dockerfile(), re.MULTILINE):
        assert tuple(map(int, base)) >= tuple(map(int, needed.groups()))


def ignored(patterns: list[str], path: str) -> bool:
    """Docker's rule, enough for these patterns: a path is excluded when it or a folder above
    it matches; `**/` matches at any depth; `!` re-includes; the last match wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").rstrip("/")
        options = [pattern]
        if pattern.startswith("**/"):
            options.append(pattern[3:])
            options += ["*/" * depth + pattern[3:] for depth in range(1, 6)]
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in options):
            result = not negate
    return result


def test_dockerignore_keeps_secrets_and_caches_out_but_not_what_the_image_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in [
        ".env",
        ".env.production",
        "issuewright.db",
        "issuewright.db-wal",
        "app.pem",
        ".venv/bin/python",
        ".cache/swe/repo",
        ".git/HEAD",
        ".issuewright/mirrors/x",
        ".pytest_cache/v",
        ".mypy_cache/x",
        ".ruff_cache/x",
        ".hypothesis/x",
        "bot/__pycache__/app.cpython-311.pyc",
        "issuewright.egg-info/PKG-INFO",
    ]:
        assert ignored(patterns, path), path

    sources = []
    for line in dockerfile().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert {"requirements.lock", "pyproject.toml", "README.md", "LICENSE", "app.yml"} <= set(
        sources
    )
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(patterns, source), source
        assert not ignored(patterns, f"{source}/x.py"), source
