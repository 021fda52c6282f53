from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps

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


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="llm", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
