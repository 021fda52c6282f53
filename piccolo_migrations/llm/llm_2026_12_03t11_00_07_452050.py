from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T11:00:07:452050"
VERSION = "1.38.0"
DESCRIPTION = "LlmJobResult.request is request_body in Python; the column stays request"

# Piccolo's admin and CRUD endpoints take a parameter named "request", so a
# column attribute of that name breaks them; the database column keeps its name
# (db_column_name="request"). Piccolo learns the attribute's new name from this
# migration's rename_column (its schema snapshot replays it), but a rename whose
# old and new database names are equal would run "RENAME COLUMN request TO
# request", which PostgreSQL refuses. Nothing in the database changes, either
# way, so the rename is recorded and never run. The next migration (made by
# `piccolo migrations new llm --auto`) gives the renamed column its
# db_column_name, a parameter Piccolo records and runs no statement for.


class AttributeRename(MigrationManager):
    """Renames Python attributes only: no statement runs, forwards or backwards."""

    async def _run_rename_columns(self, backwards: bool = False) -> None:
        for rename in self.rename_columns.rename_columns:
            assert rename.old_db_column_name == rename.new_db_column_name, rename


async def forwards():
    manager = AttributeRename(
        migration_id=ID, app_name="llm", description=DESCRIPTION
    )

    manager.rename_column(
        table_class_name="LlmJobResult",
        tablename="vde_llm_job_results",
        old_column_name="request",
        new_column_name="request_body",
        old_db_column_name="request",
        new_db_column_name="request",
        schema=None,
    )

    return manager
