"""``piccolo vde adopt`` run by a superuser on tables a less privileged role owns.

That role (the owner) plants code wherever adopt's statements could reach it:
a function and an operator in schema public that fit better than pg_catalog's,
a trigger on Piccolo's ``migration`` table, a cast from a type of its own, and
triggers, rules, policies, defaults, CHECK and index functions on the original
tables. Each planted function, run by anyone but the owner, writes a row to
``adopt_ran`` and, run by a superuser, makes the owner one. Afterwards the owner
is no superuser, ``adopt_ran`` is empty, and adopt either refused (naming each
object and its owner) or succeeded.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.ops import adopt_seed
from tests.ops.test_adopt import assert_every_row_arrived, piccolo
from vde.testing.databases import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)

#: The owner's bait: each function below calls it. The owner's own calls
#: (creating its index, checking its rows) are no attack and write nothing.
BAIT = """
CREATE TABLE public.adopt_ran (what text, by_role text);
CREATE FUNCTION public.adopt_ran(what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF current_user <> '{owner}' THEN
        INSERT INTO public.adopt_ran VALUES (what, current_user);
        IF (SELECT rolsuper FROM pg_catalog.pg_roles
            WHERE rolname = current_user) THEN
            EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', '{owner}');
        END IF;
    END IF;
    RETURN true;
END $$;
CREATE FUNCTION public.adopt_ran_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.adopt_ran('trigger on ' || TG_TABLE_NAME);
    RETURN COALESCE(NEW, OLD);
END $$;
"""

#: A function that wins over pg_catalog's lower(text) for a varchar (adopt
#: lowers item_type), and an operator that wins for varchar = varchar (Piccolo's
#: app_name = $1, vde's index predicate item_type = 'user'; IMMUTABLE, as an
#: index predicate requires).
SHADOW = """
CREATE FUNCTION public.lower(character varying) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.adopt_ran('function public.lower');
    RETURN pg_catalog.lower($1::text);
END $$;
"""

OPERATOR = """
CREATE FUNCTION public.adopt_varchar_eq(character varying, character varying)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.adopt_ran('operator public.=');
    RETURN $1::text OPERATOR(pg_catalog.=) $2::text;
END $$;
CREATE OPERATOR public.= (
    LEFTARG = character varying, RIGHTARG = character varying,
    FUNCTION = public.adopt_varchar_eq);
"""

#: Piccolo's table as its CLI creates it, with a trigger of the owner's.
MIGRATION_TABLE = """
CREATE TABLE public.migration (
    id serial PRIMARY KEY, name varchar(200) NOT NULL DEFAULT '',
    app_name varchar(200) NOT NULL DEFAULT '',
    ran_on timestamp DEFAULT current_timestamp);
CREATE TRIGGER adopt_planted BEFORE INSERT OR UPDATE OR DELETE ON public.migration
    FOR EACH ROW EXECUTE FUNCTION public.adopt_ran_trigger();
"""

#: A column of the owner's own type, with a cast to text of its own: the copy
#: casts every value to vde's column type.
CAST = """
CREATE TYPE public.adopt_name AS ENUM ('Alice', 'Bob');
ALTER TABLE public.users ALTER COLUMN name TYPE public.adopt_name
    USING name::public.adopt_name;
CREATE FUNCTION public.adopt_name_text(public.adopt_name) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.adopt_ran('cast from public.adopt_name');
    RETURN $1::name::text;
END $$;
CREATE CAST (public.adopt_name AS text)
    WITH FUNCTION public.adopt_name_text(public.adopt_name);
"""

#: On the originals: code that runs only when a row is written (adopt writes none).
ON_WRITES = """
CREATE FUNCTION public.adopt_ran_immutable(text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.adopt_ran('index on vde_base_items');
    RETURN $1;
END $$;
CREATE INDEX adopt_planted ON public.vde_base_items (public.adopt_ran_immutable(title));
ALTER TABLE public.vde_base_items ALTER COLUMN preview
    SET DEFAULT CASE WHEN public.adopt_ran('default on vde_base_items') THEN NULL END;
ALTER TABLE public.vde_map_items ADD CONSTRAINT adopt_planted
    CHECK (public.adopt_ran('check on vde_map_items'));
"""

#: On the originals: code a read or a write of them could run.
ON_READS = """
CREATE TRIGGER adopt_planted BEFORE INSERT OR UPDATE OR DELETE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.adopt_ran_trigger();
CREATE RULE adopt_planted AS ON UPDATE TO public.accounts
    DO ALSO SELECT public.adopt_ran('rule on accounts');
ALTER TABLE public.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY adopt_planted ON public.sessions
    USING (public.adopt_ran('policy on sessions'));
"""


@pytest.fixture
async def owner() -> AsyncIterator[str]:
    """A LOGIN role without special rights (roles are cluster-wide: unique name)."""
    server = server_url()
    name = f"vde_test_owner_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE ROLE "{name}" LOGIN')
        yield name
    finally:
        try:
            await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
        finally:
            await conn.close()


@pytest.fixture
async def owned_seed(owner: str) -> AsyncIterator[str]:
    """A dirty seed in a database that ``owner`` owns, its tables created by it."""
    server = server_url()
    name = scratch_name("adopt_trust")
    url = await create_database(server, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'ALTER DATABASE "{name}" OWNER TO "{owner}"')
        finally:
            await conn.close()
        await adopt_seed.build(url, dirty=True, user=owner)
        yield url
    finally:
        await drop_database(server, name)


async def plant(url: str, owner: str, *parts: str) -> None:
    conn = await asyncpg.connect(url, user=owner)
    try:
        async with conn.transaction():
            for sql in (BAIT, *parts):
                await conn.execute(sql.replace("{owner}", owner))
    finally:
        await conn.close()


async def planted_code_ran(url: str, owner: str) -> tuple[list[str], bool]:
    """What the planted code recorded, and whether the owner became a superuser."""
    conn = await asyncpg.connect(url)
    try:
        ran = [
            f"{r['what']} as {r['by_role']}"
            for r in await conn.fetch("SELECT * FROM public.adopt_ran")
        ]
        superuser = await conn.fetchval(
            "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1", owner
        )
    finally:
        await conn.close()
    return ran, superuser


async def test_a_hostile_owner_gets_no_code_run_and_adopt_refuses_naming_it(
    owned_seed: str, owner: str
) -> None:
    await plant(
        owned_seed,
        owner,
        SHADOW,
        OPERATOR,
        MIGRATION_TABLE,
        CAST,
        ON_WRITES,
        ON_READS,
    )
    before = await adopt_seed.snapshot(owned_seed)
    runs = [
        piccolo(owned_seed, *args)
        for args in (
            ["vde", "adopt"],
            ["vde", "adopt", "--apply"],
            ["vde", "adopt", "--apply", "--repair"],
        )
    ]
    assert await planted_code_ran(owned_seed, owner) == ([], False), runs
    assert await adopt_seed.snapshot(owned_seed) == before
    for done in runs:
        assert done.returncode == 1, done
        out = done.stdout
        for named in (
            f"table public.users is owned by {owner}",
            f"table public.migration is owned by {owner}",
            "trigger adopt_planted on public.users runs public.adopt_ran_trigger() "
            f"of {owner}",
            "trigger adopt_planted on public.migration runs "
            f"public.adopt_ran_trigger() of {owner}",
            f"rule adopt_planted on public.accounts of {owner}",
            f"policy adopt_planted on public.sessions of {owner}",
            "column public.users.name is of type public.adopt_name of " + owner,
            f"[function not trusted]\n      public.lower(character varying) of {owner}",
            "[operator not trusted]\n      "
            f"public.=(character varying,character varying) of {owner}",
            f"[may create in the schema]\n      {owner} (the database's owner) can "
            "create functions and operators in schema public",
        ):
            assert named in out, (named, out)
        assert "adopt runs no code of a role it does not trust" in out
        assert f"name it: --trust={owner}." in out


async def test_a_trusted_owner_is_adopted_and_none_of_its_code_runs(
    owned_seed: str, owner: str
) -> None:
    """Named with --trust, the owner's tables are adopted: adopt's own statements
    still reach no function of schema public, and the originals are only read."""
    await plant(owned_seed, owner, SHADOW, ON_WRITES)
    before = await adopt_seed.snapshot(owned_seed)
    trust = f"--trust={owner}"
    report = piccolo(owned_seed, "vde", "adopt", "--repair", trust)
    assert report.returncode == 0, report
    applied = piccolo(owned_seed, "vde", "adopt", "--apply", "--repair", trust)
    assert applied.returncode == 0, applied
    assert "Adopted." in applied.stdout
    assert await planted_code_ran(owned_seed, owner) == ([], False)
    await assert_every_row_arrived(owned_seed, before, dirty=True)


async def test_a_migration_table_with_a_trigger_is_refused_whoever_owns_it(
    owned_seed: str, owner: str
) -> None:
    """The adopting role's own ``migration`` table (a superuser's), with a
    trigger: adopt would write its records there."""
    conn = await asyncpg.connect(owned_seed)
    try:
        await conn.execute(BAIT.replace("{owner}", owner) + MIGRATION_TABLE)
    finally:
        await conn.close()
    before = await adopt_seed.snapshot(owned_seed)
    done = piccolo(
        owned_seed, "vde", "adopt", "--apply", "--repair", f"--trust={owner}"
    )
    assert done.returncode == 1, done
    assert "trigger adopt_planted on public.migration runs " in done.stdout
    assert await adopt_seed.snapshot(owned_seed) == before


async def test_an_unknown_trusted_role_is_refused(owned_seed: str) -> None:
    before = await adopt_seed.snapshot(owned_seed)
    done = piccolo(owned_seed, "vde", "adopt", "--apply", "--trust=vde_no_such_role")
    assert done.returncode == 1, done
    assert "no role named vde_no_such_role" in done.stdout
    assert await adopt_seed.snapshot(owned_seed) == before
