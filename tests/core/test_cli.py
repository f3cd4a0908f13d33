"""The h2h command line: --help everywhere, and the commands a newcomer runs."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h.accounts import service as accounts
from h2h.cli import app
from h2h.demo import DEMO_SLUGS

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (Typer ships its own copy of click)
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "h2h")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_the_commands_the_issue_names_exist() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"serve", "migrate", "demo", "workspace create", "user create", "user invite"} <= names


def test_create_a_user_a_workspace_and_an_invitation(env: None, session: Session) -> None:
    created = runner.invoke(
        app,
        [
            "user",
            "create",
            "lena@h2h.example",
            "--name",
            "Лена",
            "--password",
            "a long enough password",
        ],
    )
    assert created.exit_code == 0, created.output
    workspace = runner.invoke(
        app, ["workspace", "create", "Студия йоги", "--owner", "lena@h2h.example"]
    )
    assert workspace.exit_code == 0 and "/w/studiya-yogi/" in workspace.output
    invite = runner.invoke(
        app,
        ["user", "invite", "ivan@h2h.example", "--workspace", "studiya-yogi", "--role", "agent"],
    )
    assert invite.exit_code == 0 and "/invite/h2hi_" in invite.output
    assert accounts.get_workspace(session, slug="studiya-yogi").name == "Студия йоги"


def test_cli_errors_are_one_readable_line(env: None) -> None:
    missing_owner = runner.invoke(app, ["workspace", "create", "X", "--owner", "no@h2h.example"])
    assert missing_owner.exit_code == 1
    assert "no user with email no@h2h.example" in missing_owner.output
    bad = runner.invoke(
        app,
        ["user", "create", "not-an-email", "--name", "X", "--password", "a long enough password"],
    )
    assert bad.exit_code == 1 and "is not a valid email address" in bad.output
    assert "Traceback" not in bad.output


def test_demo_loads_once_and_can_be_reset(env: None, session: Session) -> None:
    first = runner.invoke(app, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "anna@zerno.example" in first.output
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert "already loaded" in second.output
    third = runner.invoke(app, ["demo", "--no-serve", "--reset"])
    assert third.exit_code == 0 and "ready" in third.output
    for slug in DEMO_SLUGS:
        assert (
            len(
                accounts.list_members(
                    session, workspace_id=accounts.get_workspace(session, slug=slug).id
                )
            )
            >= 2
        )
