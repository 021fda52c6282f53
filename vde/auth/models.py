"""Typed rows of the auth app: ``<Table>Read`` to read, ``<Table>Write`` to insert.

Read models never carry credentials (password and token columns are ``secret=True``
and left out); write models do, because the auth layer has to store them. See
:mod:`vde.row_models` for what each kind requires.
"""

from __future__ import annotations

from vde.auth.tables import Account, ApiKey, Session, User, VerificationToken
from vde.row_models import read_model, write_model

UserRead = read_model(User, "UserRead")
UserWrite = write_model(User, "UserWrite")
AccountRead = read_model(Account, "AccountRead")
AccountWrite = write_model(Account, "AccountWrite")
SessionRead = read_model(Session, "SessionRead")
SessionWrite = write_model(Session, "SessionWrite")
VerificationTokenRead = read_model(VerificationToken, "VerificationTokenRead")
VerificationTokenWrite = write_model(VerificationToken, "VerificationTokenWrite")
ApiKeyRead = read_model(ApiKey, "ApiKeyRead")
ApiKeyWrite = write_model(ApiKey, "ApiKeyWrite")
