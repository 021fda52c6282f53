"""``piccolo vde app_role``: the role an application connects as, DML rights only."""

from __future__ import annotations

import sys

from vde.ops.app_role_grants import AppRoleRefused, make_app_role, sql_names
from vde.ops.cli import engine_or_exit
from vde.ops.password_input import read_password, refuse_command_line_password
from vde.ops.project_apps import UnknownAppsError, app_tables, registered_apps


async def app_role(
    name: str = "vde_app",
    password_file: str = "",
    password_prompt: bool = False,
    force: bool = False,
    apps: str = "",
    password: str | None = None,
) -> None:
    """Create or update (idempotently) a LOGIN role that can only read and write rows.

    It gets SELECT, INSERT, UPDATE, DELETE on the tables of every app in
    piccolo_conf.py's APP_REGISTRY (vde's and the project's own) and USAGE,
    SELECT on their sequences, nothing else; its effective rights are checked
    afterwards and printed. Run it again after migrations that add tables. An existing
    role with more rights (an elevated attribute, membership in a role, CREATE
    on the database or a schema, objects it owns, grants on other objects or
    on columns, default privileges, settings it could not SET itself) is
    refused unless --force is given. The password is read from a file, the
    VDE_APP_PASSWORD variable or a prompt, never from the command line (every
    local user can read that), and travels only as a SCRAM-SHA-256 verifier
    computed here.

    :param name: the role's name.
    :param password_file: read its password from this file (its one trailing
        line break left out); default: the VDE_APP_PASSWORD variable, and
        without either an existing password is left as it is.
    :param password_prompt: ask for its password on the terminal (twice).
    :param force: take the extra rights away from an existing role (each one
        is printed) instead of refusing it.
    :param apps: only these apps' tables, comma-separated (e.g.
        ``auth,mapping,hexmap``); default: every registered app's. Rights on
        the other apps' tables count as more rights.
    :param password: not accepted: every local user can read a command line;
        use --password_file, VDE_APP_PASSWORD or --password_prompt.
    """
    if password is not None:
        refuse_command_line_password()
    try:
        chosen = registered_apps(apps)
    except UnknownAppsError as unknown:
        sys.exit(str(unknown))
    secret = read_password(password_file, password_prompt, role=name)
    engine = engine_or_exit()
    tables = sql_names(app_tables(chosen))
    try:
        lines = await make_app_role(engine.config, name, secret, force, tables)
    except AppRoleRefused as refused:
        sys.exit(str(refused))
    print(f"apps: {', '.join(app.app_name for app in chosen)}")
    for line in lines:
        print(line)
