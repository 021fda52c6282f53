"""``python -m bench.citus_placement URL``: where the sign-in tables live on Citus.

On a migrated Citus coordinator (``URL``, with workers) it times better-auth's
writes and lookups on the coordinator's own ``vde_sessions`` and
``vde_api_keys`` and on copies of them made reference tables (a replica on
every node), and logs how many nodes each statement reached
(``vde.testing.citus``). The copies are dropped at the end. docs/scale-out.md
shows the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import asyncpg

from vde.testing.citus import shard_log

ROUNDS = 400

#: (name, statement, arguments from a row number)
SESSION_WRITES = {
    "session created": (
        "INSERT INTO {s} (id, user_id, token, expires_at) "
        "VALUES ($1, 'bench', $2, now() + interval '7 days')",
        lambda n: (f"s{n}", f"t{n}"),
    ),
    "session refreshed": (
        "UPDATE {s} SET expires_at = now() + interval '7 days', updated_at = now() "
        "WHERE token = $1",
        lambda n: (f"t{n}",),
    ),
    "api key used (request_count + 1)": (
        "UPDATE {k} SET request_count = request_count + 1, last_request = now() "
        "WHERE key = $1",
        lambda n: (f"k{n % 20}",),
    ),
}
LOOKUPS = {
    "session by token": ("SELECT * FROM {s} WHERE token = $1", lambda n: (f"t{n}",)),
    "api key by hash": ("SELECT * FROM {k} WHERE key = $1", lambda n: (f"k{n % 20}",)),
}


async def timed(run: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """Median and 90th percentile of ``ROUNDS`` runs, in milliseconds."""
    times = []
    for n in range(ROUNDS):
        start = time.perf_counter()
        await run(n)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


async def prepare(connection: asyncpg.Connection) -> None:
    await connection.execute(
        "INSERT INTO vde_users (id, email) VALUES ('bench', 'bench@example.org') "
        "ON CONFLICT DO NOTHING"
    )
    for table in ("vde_sessions", "vde_api_keys"):
        copy = f"bench_ref_{table.removeprefix('vde_')}"
        await connection.execute(f"DROP TABLE IF EXISTS {copy}")
        await connection.execute(
            f"CREATE TABLE {copy} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        await connection.execute(f"SELECT create_reference_table('{copy}')")
    for keys in ("vde_api_keys", "bench_ref_api_keys"):
        await connection.execute(
            f"INSERT INTO {keys} (id, key, user_id) "
            "SELECT 'k' || g, 'k' || g, 'bench' FROM generate_series(0, 19) g"
        )


async def measure(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    lines = [f"{ROUNDS} runs each; median / p90 in ms; nodes a statement reached"]
    try:
        await prepare(connection)
        await connection.execute("DELETE FROM vde_sessions WHERE user_id = 'bench'")
        for label, names in (
            ("coordinator-local", {"s": "vde_sessions", "k": "vde_api_keys"}),
            ("reference table", {"s": "bench_ref_sessions", "k": "bench_ref_api_keys"}),
        ):
            for name, (sql, args) in {**SESSION_WRITES, **LOOKUPS}.items():
                statement = sql.format(**names)

                async def run(n: int, statement: str = statement, args=args) -> None:
                    await connection.execute(statement, *args(n))

                median, p90 = await timed(run)
                async with shard_log(connection) as log:
                    await run(ROUNDS)  # a row of its own, made by "created"
                nodes = {node for t in log.statements for node in t.nodes}
                prepared = log.two_phase_commits()
                lines.append(
                    f"{label:18} {name:34} {median:6.3f} / {p90:6.3f}  "
                    f"remote nodes: {len(nodes)}"
                    + (", two-phase commit" if prepared else "")
                )
    finally:
        for copy in ("bench_ref_sessions", "bench_ref_api_keys"):
            await connection.execute(f"DROP TABLE IF EXISTS {copy}")
        await connection.execute("DELETE FROM vde_sessions WHERE user_id = 'bench'")
        await connection.execute("DELETE FROM vde_api_keys WHERE user_id = 'bench'")
        await connection.execute("DELETE FROM vde_users WHERE id = 'bench'")
        await connection.close()
    return lines


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.citus_placement URL")
    for line in asyncio.run(measure(sys.argv[1])):
        print(line)
