"""The deployment files, checked without a Docker engine: the compose spec, then the rest."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._compose import (
    COMPOSE_FILE,
    ROOT,
    command_args,
    dockerfile_instructions,
    entrypoint,
    exec_form,
    load_compose,
    variables,
)

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
SWEEP_SERVICES = ("init", "worker", "report")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    """Services as compose sees them with no .env: every default applied."""
    return load_compose()["services"]


def published_ports(service: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(host_ip, target) for each published port, short or long syntax."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((port.get("host_ip"), str(port["target"])))
            continue
        parts = str(port).split(":")
        found.append((parts[0] if len(parts) == 3 else None, parts[-1]))
    return found


def test_compose_file_matches_the_compose_spec() -> None:
    # The schema ships inside check-jsonschema (vendor.compose-spec): no network needed.
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_depends_on_target_exists_with_the_right_condition(services: dict) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        targets = depends if isinstance(depends, list) else list(depends)
        assert set(targets) <= set(services), f"{name} depends on a missing service: {targets}"
    assert services["init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["init"]["condition"] == (
        "service_completed_successfully")


def test_worker_is_scalable_and_restarts_on_failure(services: dict) -> None:
    worker = services["worker"]
    assert "ports" not in worker and "container_name" not in worker
    assert worker["restart"] == "on-failure"
    assert command_args(worker)[:2] == ["worker", "studies/quickstart.yaml"]


def test_worker_threads_follow_its_cpu_limit() -> None:
    worker = load_compose({"WORKER_CPUS": "3"})["services"]["worker"]
    args = command_args(worker)
    assert str(worker["cpus"]) == "3"
    assert args[args.index("--threads") + 1] == "3"


def test_sweep_services_share_one_psycopg3_storage_url_and_the_data_cache(services: dict) -> None:
    urls = {services[name]["environment"]["SWEEP_STORAGE"] for name in SWEEP_SERVICES}
    assert len(urls) == 1
    assert urls.pop().startswith("postgresql+psycopg://sweep:sweep@postgres:5432/")
    for name in ("init", "worker"):
        cache = services[name]["environment"]["SWEEP_CACHE_DIR"]
        assert any(volume.split(":")[1] == cache for volume in services[name]["volumes"]
                   if not volume.startswith(".")), f"{name}: {cache} is not a mounted volume"


def test_init_creates_the_study_once_from_the_study_file(services: dict) -> None:
    assert command_args(services["init"]) == ["init", "studies/quickstart.yaml"]
    assert services["init"]["restart"] == "no"
    other = load_compose({"STUDY": "other"})["services"]["init"]
    assert command_args(other) == ["init", "studies/other.yaml"]


def test_postgres_is_healthchecked_private_and_pinned(services: dict) -> None:
    postgres = services["postgres"]
    assert postgres["healthcheck"]["test"], "postgres needs a healthcheck"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "ports" not in postgres
    assert re.fullmatch(r"postgres:\d+\.\d+[\w.-]*", postgres["image"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in load_compose()["volumes"], "postgres data must live in a named volume"


def test_credentials_come_from_the_environment() -> None:
    raw = COMPOSE_FILE.read_text()
    assert "${POSTGRES_PASSWORD:-" in raw
    secret = load_compose({"POSTGRES_PASSWORD": "s3cret-from-env"})["services"]
    assert secret["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret-from-env"
    assert ":s3cret-from-env@" in secret["worker"]["environment"]["SWEEP_STORAGE"]
    assert ":s3cret-from-env@" in secret["dashboard"]["command"][0]


def test_only_the_dashboard_is_published_and_only_on_loopback(services: dict) -> None:
    for name, service in services.items():
        if name != "dashboard":
            assert not service.get("ports"), f"{name} must not be published"
    ports = published_ports(services["dashboard"])
    assert ports and all(host_ip == "127.0.0.1" for host_ip, _ in ports), ports


def test_dashboard_image_is_pinned_and_uses_psycopg2(services: dict) -> None:
    dashboard = services["dashboard"]
    image, _, tag = dashboard["image"].rpartition(":")
    assert image == "ghcr.io/optuna/optuna-dashboard"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), f"pin a release tag, not {tag!r}"
    url = command_args(dashboard)[0]
    assert url.startswith("postgresql+psycopg2://") and "@postgres:5432/" in url


def test_report_is_on_demand_and_writes_to_a_mounted_folder(services: dict) -> None:
    report = services["report"]
    assert report["profiles"] == ["report"]
    args = command_args(report)
    assert args[args.index("--out") + 1] == "/app/reports/quickstart"
    assert "./reports:/app/reports" in report["volumes"]


def test_every_compose_variable_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(),
                                re.M))
    assert variables(COMPOSE_FILE.read_text()) <= documented


def test_dockerfile_runs_sweep_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    base = next(args for keyword, args in instructions if keyword == "FROM")
    assert re.fullmatch(r"python:3\.11-slim[\w.-]*", base)
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert entrypoint() == ["sweep"]
    cmd = [args for keyword, args in instructions if keyword == "CMD"]
    assert cmd and exec_form(cmd[-1]) is not None, "CMD must be exec form too"
    assert any(keyword == "RUN" and "pip install ." in args for keyword, args in instructions)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore drops ``path`` (relative, '/'-separated) from the build context.

    Docker's rules for the patterns we use: anchored at the context root, ``**/`` matches any
    depth including none, an excluded directory drops everything below it, ``!`` re-includes.
    """
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        prefixes = ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 2)]
        if any(fnmatch.fnmatchcase(prefix, candidate) and (
                candidate.startswith("**/") or prefix.count("/") == candidate.count("/"))
               for candidate in candidates for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_secrets_results_and_data_out_of_the_context() -> None:
    for path in (".git/config", ".env", "reports/quickstart/index.html", "sweep.db",
                 "studies/old.db", ".venv/bin/python", "aclImdb_v1.tar.gz", "tests/conftest.py",
                 "sweep/__pycache__/cli.cpython-311.pyc", "shared/data/x.tar.gz"):
        assert dockerignored(path), f"{path} would be sent to the docker build"


def test_every_file_the_dockerfile_copies_reaches_the_build_context() -> None:
    copied = [arg for keyword, args in dockerfile_instructions() if keyword == "COPY"
              for arg in args.split()[:-1] if not arg.startswith("--") and "*" not in arg]
    assert {"pyproject.toml", "sweep", "studies"} <= set(copied)
    for source in copied:
        files = [source] if (ROOT / source).is_file() else [
            p.relative_to(ROOT).as_posix() for p in (ROOT / source).rglob("*.py*")
            if "__pycache__" not in p.parts]
        assert (ROOT / source).exists(), f"COPY {source}: missing"
        kept = [f for f in files if not dockerignored(f)]
        assert kept == files, f"COPY {source}: .dockerignore drops {set(files) - set(kept)}"


def test_study_names_match_file_stems_as_the_report_service_assumes() -> None:
    # init/worker take studies/${STUDY}.yaml and report takes the study NAME: the same ${STUDY}.
    for path in sorted((ROOT / "studies").glob("*.yaml")):
        assert yaml.safe_load(path.read_text())["name"] == path.stem, path.name
