from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T17:26:43:939325"
VERSION = "1.38.0"
DESCRIPTION = "index of jobs by user and creation time"

# Raw step: Piccolo has no multi-column plain index.
# Serves "a user's jobs, newest first" (scanned backwards).
# The "-- squawk-ignore" line is read by squawk (`piccolo vde lint`), its reason
# is the line above it; CONCURRENTLY cannot run inside the migration's transaction.
FORWARDS = (
    "-- the table is new (previous migration): no client writes to it yet\n"
    "-- squawk-ignore require-concurrent-index-creation\n"
    "CREATE INDEX vde_llm_job_results_user_created "
    "ON vde_llm_job_results (user_id, created_at)"
)
BACKWARDS = "DROP INDEX vde_llm_job_results_user_created"


async def run(sql: str) -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="llm", description=DESCRIPTION
    )

    async def raw_forwards():
        await run(FORWARDS)

    async def raw_backwards():
        await run(BACKWARDS)

    manager.add_raw(raw_forwards)
    manager.add_raw_backwards(raw_backwards)

    return manager
