"""The ``llm`` app: results of background LLM jobs."""

from piccolo.conf.apps import AppConfig

from vde.migrations_path import migrations_folder

from .tables import LlmJobResult

APP_CONFIG = AppConfig(
    app_name="llm",
    migrations_folder_path=migrations_folder("llm"),
    table_classes=[LlmJobResult],
    migration_dependencies=[],
    commands=[],
)
