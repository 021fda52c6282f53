import datetime

import pydantic
import pytest

from vde.auth.models import (
    AccountRead,
    AccountWrite,
    ApiKeyRead,
    ApiKeyWrite,
    SessionRead,
    SessionWrite,
    UserRead,
    UserWrite,
    VerificationTokenRead,
    VerificationTokenWrite,
)
from vde.auth.tables import Account, ApiKey, Session, User, VerificationToken
from vde.row_models import secret_columns

LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
SECRETS = {
    "password": "HASH-OF-PASSWORD",
    "access_token": "ACCESS-TOKEN",
    "refresh_token": "REFRESH-TOKEN",
    "id_token": "ID-TOKEN",
    "session_token": "SESSION-TOKEN",
    "verification_identifier": "reset-password:RESET-TOKEN",
    "verification_value": "VERIFICATION-VALUE",
    "api_key_hash": "API-KEY-HASH",
}
SECRET_FIELDS = {"password", "access_token", "refresh_token", "id_token", "token",
                 "identifier", "value", "key"}


async def insert_rows_with_every_secret() -> None:
    """One row of each auth table, written through the write models."""
    rows = [
        (User, UserWrite(id="u1", email="ada@example.com")),
        (Account, AccountWrite(
            id="a1", user="u1", account_id="u1", provider_id="credential",
            password=SECRETS["password"], access_token=SECRETS["access_token"],
            refresh_token=SECRETS["refresh_token"], id_token=SECRETS["id_token"],
        )),
        (Session, SessionWrite(
            id="s1", user="u1", token=SECRETS["session_token"], expires_at=LATER
        )),
        (VerificationToken, VerificationTokenWrite(
            id="v1", identifier=SECRETS["verification_identifier"],
            value=SECRETS["verification_value"], expires_at=LATER,
        )),
        (ApiKey, ApiKeyWrite(id="k1", user="u1", key=SECRETS["api_key_hash"])),
    ]
    for table, model in rows:
        await table.insert(table(**model.model_dump())).run()


READ_MODELS = [
    (User, UserRead),
    (Account, AccountRead),
    (Session, SessionRead),
    (VerificationToken, VerificationTokenRead),
    (ApiKey, ApiKeyRead),
]


@pytest.mark.parametrize(("table", "model"), READ_MODELS,
                         ids=[t.__name__ for t, _ in READ_MODELS])
async def test_read_model_dump_of_a_real_row_holds_no_secret(vde_db, table, model):
    await insert_rows_with_every_secret()
    row = (await table.select().run())[0]  # plain select(): secrets included
    read = model.model_validate(row)

    dumps = [str(read.model_dump()), read.model_dump_json(), repr(read),
             str(read.model_dump(by_alias=True))]
    for dump in dumps:
        for secret in SECRETS.values():
            assert secret not in dump
    assert not SECRET_FIELDS & set(read.model_dump())
    assert read.model_dump()["id"] == row["id"]


WRITE_MODELS = [
    (Account, AccountWrite),
    (Session, SessionWrite),
    (VerificationToken, VerificationTokenWrite),
    (ApiKey, ApiKeyWrite),
]


#: The models of the tables that hold a secret (not ``vde_users``).
WITH_SECRETS = [(t, m) for t, m in READ_MODELS + WRITE_MODELS if secret_columns(t)]


@pytest.mark.parametrize(("table", "model"), WITH_SECRETS,
                         ids=[m.__name__ for _, m in WITH_SECRETS])
async def test_a_validation_error_of_a_real_row_holds_no_secret(vde_db, table, model):
    """The session token, password hash, key hash and verification value of a
    row read with ``select()`` stay out of str(), errors() and json().

    Without ``id`` every model reports it "missing", an error whose input is
    the whole row; a write model also gets each secret as a wrong type.
    """
    await insert_rows_with_every_secret()
    row = (await table.select().run())[0]  # plain select(): secrets included
    del row["id"]
    if model in dict(WRITE_MODELS).values():
        row = {name: [value] if name in SECRET_FIELDS else value
               for name, value in row.items()}
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate(row)
    error = caught.value
    assert ("id",) in [line["loc"] for line in error.errors()]
    shown = [str(error), repr(error), str(error.errors()), error.json()]
    for text in shown:
        for secret in SECRETS.values():
            assert secret not in text


def test_read_models_have_no_secret_field():
    assert set(AccountRead.model_fields).isdisjoint(
        {"password", "access_token", "refresh_token", "id_token"})
    assert "token" not in SessionRead.model_fields
    assert {"identifier", "value"}.isdisjoint(VerificationTokenRead.model_fields)
    assert "key" not in ApiKeyRead.model_fields


async def test_read_model_types_a_row_from_the_database(vde_db):
    await insert_rows_with_every_secret()
    key = ApiKeyRead.model_validate(
        await ApiKey.select().where(ApiKey.id == "k1").first().run())
    assert (key.user, key.enabled, key.rate_limit_max) == ("u1", True, 10)
    assert key.created_at.tzinfo is not None
    with pytest.raises(pydantic.ValidationError):
        key.enabled = False  # read models are frozen


def test_write_models_require_what_has_no_database_default():
    with pytest.raises(pydantic.ValidationError) as error:
        UserWrite()
    assert {e["loc"][0] for e in error.value.errors()} == {"id", "email"}
    with pytest.raises(pydantic.ValidationError) as error:
        SessionWrite(id="s1", user="u1")
    assert {e["loc"][0] for e in error.value.errors()} == {"token", "expires_at"}
    with pytest.raises(pydantic.ValidationError) as error:
        ApiKeyWrite(id="k1")
    assert {e["loc"][0] for e in error.value.errors()} == {"key", "user_id"}


def test_write_models_take_no_timestamps_and_fill_database_defaults():
    for model in (UserWrite, AccountWrite, SessionWrite, VerificationTokenWrite,
                  ApiKeyWrite):
        assert {"created_at", "updated_at"}.isdisjoint(model.model_fields)
        assert model.model_fields["id"].is_required()  # the auth layer picks ids
    key = ApiKeyWrite(id="k1", user_id="u1", key="h")
    assert (key.enabled, key.rate_limit_time_window, key.request_count) == (
        True, 86_400_000, 0)
    with pytest.raises(pydantic.ValidationError):
        UserWrite(id="u1", email="a@example.com", created_at=LATER)
