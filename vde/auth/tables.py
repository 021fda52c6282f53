"""The sign-in layer's tables: users, their sign-in methods, sessions and keys.

Ids are text supplied by the auth layer. Credentials are ``secret=True`` so that
``select(exclude_secrets=True)`` and vde's read models leave them out.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    OnUpdate,
    Text,
    Timestamptz,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from vde.columns import created_at, tablename, updated_at


class User(Table, tablename=tablename("users")):
    """A person who can sign in."""

    id = Text(primary_key=True, default=None)
    name = Text(null=True, default=None)
    email = Text(unique=True, default=None)
    email_verified = Boolean(default=False)
    image = Text(null=True, default=None)
    created_at = created_at()
    updated_at = updated_at()


def _user_fk() -> ForeignKey[User]:
    """``user_id text NOT NULL``, indexed, pointing at the user, gone with the user."""
    return ForeignKey(
        User,
        null=False,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.no_action,
        db_column_name="user_id",
        index=True,
    )


class Account(Table, tablename=tablename("accounts")):
    """One sign-in method of a user (a password, or a provider identity)."""

    id = Text(primary_key=True, default=None)
    user = _user_fk()
    account_id = Text(default=None, help_text="The provider's id of the user.")
    provider_id = Text(default=None, help_text="'credential', 'github', ...")
    access_token = Text(null=True, default=None, secret=True)
    refresh_token = Text(null=True, default=None, secret=True)
    access_token_expires_at = Timestamptz(null=True, default=None)
    refresh_token_expires_at = Timestamptz(null=True, default=None)
    scope = Text(null=True, default=None)
    id_token = Text(null=True, default=None, secret=True)
    password = Text(
        null=True, default=None, secret=True, help_text="A hash, never plain text."
    )
    created_at = created_at()
    updated_at = updated_at()

    # One provider identity belongs to one user only.
    vde_accounts_provider_account_unique = Unique(["provider_id", "account_id"])


class Session(Table, tablename=tablename("sessions")):
    """A signed-in browser session, found by its token."""

    id = Text(primary_key=True, default=None)
    user = _user_fk()
    token = Text(unique=True, default=None, secret=True)
    expires_at = Timestamptz(default=None)
    ip_address = Text(null=True, default=None)
    user_agent = Text(null=True, default=None)
    created_at = created_at()
    updated_at = updated_at()


class VerificationToken(Table, tablename=tablename("verification_tokens")):
    """A one-time value sent to an address (e-mail check, password reset).

    better-auth keeps the secret in either column (a reset stores
    ``identifier = 'reset-password:<token>'`` and the user id in ``value``), so
    both are secret, and ``value`` is not unique: a second reset request of one
    user repeats it.
    """

    id = Text(primary_key=True, default=None)
    identifier = Text(
        default=None,
        index=True,
        secret=True,
        help_text="What the value is for, e.g. an e-mail or 'reset-password:<token>'.",
    )
    value = Text(default=None, secret=True)
    expires_at = Timestamptz(default=None)
    created_at = created_at()
    updated_at = updated_at()


class ApiKey(Table, tablename=tablename("api_keys")):
    """An API key of a user; only its hash is stored (better-auth's ``apikey``)."""

    id = Text(primary_key=True, default=None)
    name = Text(null=True, default=None)
    start = Text(null=True, default=None, help_text="First characters, shown in UIs.")
    prefix = Text(null=True, default=None)
    key = Text(unique=True, default=None, secret=True, help_text="A hash of the key.")
    user = _user_fk()
    refill_interval = BigInt(
        null=True, default=None, help_text="Milliseconds (30 days is past int4)."
    )
    refill_amount = Integer(null=True, default=None)
    last_refill_at = Timestamptz(null=True, default=None)
    enabled = Boolean(default=True)
    rate_limit_enabled = Boolean(default=True)
    rate_limit_time_window = BigInt(default=86_400_000, help_text="Milliseconds.")
    rate_limit_max = Integer(default=10)
    request_count = Integer(default=0)
    remaining = Integer(null=True, default=None)
    last_request = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    created_at = created_at()
    updated_at = updated_at()
    permissions = Text(null=True, default=None)
    metadata = Text(null=True, default=None)
    # Added by a later migration, so PostgreSQL places it last.
    config_id = Text(
        default="default",
        index=True,
        help_text="better-auth's api-key configuration this key belongs to.",
    )
