from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSONB

ID = "2026-12-03T11:01:39:461230"
VERSION = "1.38.0"
DESCRIPTION = "the request_body attribute keeps the column request"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="llm", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="LlmJobResult",
        tablename="vde_llm_job_results",
        column_name="request_body",
        db_column_name="request",
        params={"db_column_name": "request"},
        old_params={"db_column_name": None},
        column_class=JSONB,
        old_column_class=JSONB,
        schema=None,
    )

    return manager
