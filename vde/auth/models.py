"""Typed rows of the auth app: ``<Table>Read`` to read, ``<Table>Write`` to insert.

Read models never carry credentials (the ``secret=True`` columns: password and
token columns, key hashes); write models do, because the auth layer has to store
them. See :mod:`vde.row_models` for what each kind requires;
tests/test_row_models.py keeps every field in step with its column.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from vde.row_models import READ_CONFIG, WRITE_CONFIG, RowModel


class UserRead(RowModel):
    """A person who can sign in (a row of ``vde_users``)."""

    model_config = READ_CONFIG

    id: str
    name: str | None = None
    email: str
    email_verified: bool
    image: str | None = None
    created_at: datetime
    updated_at: datetime


class UserWrite(RowModel):
    model_config = WRITE_CONFIG

    id: str
    name: str | None = None
    email: str
    email_verified: bool = False
    image: str | None = None


class AccountRead(RowModel):
    """A sign-in method of a user, without its password hash and tokens."""

    model_config = READ_CONFIG

    id: str
    user: str = Field(validation_alias="user_id")
    account_id: str
    provider_id: str
    access_token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scope: str | None = None
    created_at: datetime
    updated_at: datetime


class AccountWrite(RowModel):
    model_config = WRITE_CONFIG

    id: str
    user: str = Field(validation_alias="user_id")
    account_id: str
    provider_id: str
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scope: str | None = None
    id_token: str | None = None
    password: str | None = None


class SessionRead(RowModel):
    """A signed-in session, without its token."""

    model_config = READ_CONFIG

    id: str
    user: str = Field(validation_alias="user_id")
    expires_at: datetime
    ip_address: str | None = None
    user_agent: str | None = None
    created_at: datetime
    updated_at: datetime


class SessionWrite(RowModel):
    model_config = WRITE_CONFIG

    id: str
    user: str = Field(validation_alias="user_id")
    token: str
    expires_at: datetime
    ip_address: str | None = None
    user_agent: str | None = None


class VerificationTokenRead(RowModel):
    """A one-time token's row without ``identifier`` and ``value``.

    better-auth keeps the secret in either (``reset-password:<token>`` in
    ``identifier``), so both stay out of what a read model shows.
    """

    model_config = READ_CONFIG

    id: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime


class VerificationTokenWrite(RowModel):
    model_config = WRITE_CONFIG

    id: str
    identifier: str
    value: str
    expires_at: datetime


class ApiKeyRead(RowModel):
    """An API key of a user, without its hash; enabled, expiry and limits to judge."""

    model_config = READ_CONFIG

    id: str
    name: str | None = None
    start: str | None = None
    prefix: str | None = None
    user: str = Field(validation_alias="user_id")
    refill_interval: int | None = None
    refill_amount: int | None = None
    last_refill_at: datetime | None = None
    enabled: bool
    rate_limit_enabled: bool
    rate_limit_time_window: int
    rate_limit_max: int
    request_count: int
    remaining: int | None = None
    last_request: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    permissions: str | None = None
    metadata: str | None = None
    config_id: str


class ApiKeyWrite(RowModel):
    model_config = WRITE_CONFIG

    id: str
    name: str | None = None
    start: str | None = None
    prefix: str | None = None
    key: str
    user: str = Field(validation_alias="user_id")
    refill_interval: int | None = None
    refill_amount: int | None = None
    last_refill_at: datetime | None = None
    enabled: bool = True
    rate_limit_enabled: bool = True
    rate_limit_time_window: int = 86_400_000
    rate_limit_max: int = 10
    request_count: int = 0
    remaining: int | None = None
    last_request: datetime | None = None
    expires_at: datetime | None = None
    permissions: str | None = None
    metadata: str | None = None

    config_id: str = "default"
