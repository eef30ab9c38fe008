"""Read docker-compose.yml and the Dockerfile as docker would, without a Docker engine.

There is no `docker compose` plugin here, so variable interpolation follows the compose spec's
rules for the forms our file uses: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}`` and ``${VAR?error}``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

_REFERENCE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_]\w*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_]\w*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>.*))?", re.S)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables in every string of a loaded compose document."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, str):
        return _REFERENCE.sub(lambda match: _substitute(match, env), value)
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match["escaped"]:
        return "$"
    if match["named"]:
        return env.get(match["named"], "")
    braced = _BRACED.fullmatch(match["braced"])
    if braced is None:
        raise ValueError(f"invalid interpolation {match[0]!r}")
    name, op, arg = braced["name"], braced["op"], braced["arg"]
    unset_or_empty = not env.get(name)
    if op == ":-":
        return arg if unset_or_empty else env[name]
    if op == "-":
        return env.get(name, arg)
    if op in (":?", "?") and (unset_or_empty if op == ":?" else name not in env):
        raise KeyError(f"required variable {name} is missing: {arg}")
    return env.get(name, "")


def variables(text: str) -> set[str]:
    """The variable names a compose file refers to (``$$`` escapes excluded)."""
    names = set()
    for match in _REFERENCE.finditer(text):
        if match["named"]:
            names.add(match["named"])
        elif match["braced"] is not None:
            braced = _BRACED.fullmatch(match["braced"])
            if braced is not None:
                names.add(braced["name"])
    return names


def load_compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose document after interpolation with ``env`` (defaults apply to unset names)."""
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env or {})


def command_args(service: Mapping[str, Any]) -> list[str]:
    """A service's command as an argv list (compose allows a list or a shell-like string)."""
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(keyword.upper(), rest.strip())
            for keyword, _, rest in (line.partition(" ") for line in logical)]


def exec_form(arguments: str) -> list[str] | None:
    """The argv of an exec-form (JSON array) ENTRYPOINT/CMD, or None for the shell form."""
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(a, str) for a in parsed) else None


def entrypoint() -> list[str]:
    """The image's ENTRYPOINT argv (the last one wins, as in docker)."""
    found = [exec_form(args) for keyword, args in dockerfile_instructions()
             if keyword == "ENTRYPOINT"]
    if not found or found[-1] is None:
        raise AssertionError("the Dockerfile needs an exec-form ENTRYPOINT")
    return found[-1]
