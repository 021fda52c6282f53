"""The ``auth`` app: identity tables used by the sign-in layer."""

from piccolo.conf.apps import AppConfig

from vde.migrations_path import migrations_folder

from .tables import Account, ApiKey, Session, User, VerificationToken

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=migrations_folder("auth"),
    table_classes=[User, Account, Session, VerificationToken, ApiKey],
    migration_dependencies=[],
    commands=[],
)
