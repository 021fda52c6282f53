"""``vde.redaction.redacted``: no secret of a connection string is ever shown."""

from __future__ import annotations

import pytest

from vde.redaction import redacted

SECRET = "Sekr1t-pw"


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        # user info, as libpq, urllib and asyncpg read it
        (f"postgresql://app:{SECRET}@db:5432/vde", "postgresql://app:***@db:5432/vde"),
        (f"postgres://app:{SECRET}@x@h1,h2/vde", "postgres://app:***@h1,h2/vde"),
        (
            f"postgresql://u:p%40w%2F{SECRET}@/db?host=/tmp/x",
            "postgresql://u:***@/db?host=/tmp/x",
        ),
        (f"postgresql://u:{SECRET}?x@h/db", "postgresql://u:***@h/db"),
        (f"postgresql://u:{SECRET}#x@h/db", "postgresql://u:***@h/db"),
        (f"POSTGRESQL://u:{SECRET}@h/db", "POSTGRESQL://u:***@h/db"),
        # query parameters, any case, names percent-encoded or not
        (
            f"postgresql://app@db/vde?sslmode=require&password={SECRET}",
            "postgresql://app@db/vde?sslmode=require&password=***",
        ),
        (
            f"postgresql:///vde?host=/run/pg&PassWord={SECRET}&sslpassword={SECRET}",
            "postgresql:///vde?host=/run/pg&PassWord=***&sslpassword=***",
        ),
        (
            f"postgresql://h/db?pass%77ord={SECRET}&ssl%70assword=%53{SECRET}",
            "postgresql://h/db?pass%77ord=***&ssl%70assword=***",
        ),
        (
            f"postgresql://h/db?oauth_client_secret={SECRET}&passfile=/p/.pgpass",
            "postgresql://h/db?oauth_client_secret=***&passfile=/p/.pgpass",
        ),
        (
            f"postgresql://h?password={SECRET}/x@y#z",
            "postgresql://h?password=***",
        ),
        (
            f"postgresql://app:{SECRET}@db/vde?PASSWORD={SECRET}",
            "postgresql://app:***@db/vde?PASSWORD=***",
        ),
        # libpq key=value strings
        (
            f"host=db user=app password={SECRET} dbname=vde",
            "host=db user=app password=*** dbname=vde",
        ),
        (
            f"host=db Password = 'a {SECRET} \\' b' dbname=vde",
            "host=db Password = *** dbname=vde",
        ),
        (
            f"host=db password=a\\ {SECRET} sslpassword={SECRET} dbname=vde",
            "host=db password=*** sslpassword=*** dbname=vde",
        ),
        # nothing secret: unchanged
        (
            "postgresql://app@db/vde?sslmode=require",
            "postgresql://app@db/vde?sslmode=require",
        ),
        ("host=db sslkey=/k.pem passfile=/p", "host=db sslkey=/k.pem passfile=/p"),
    ],
)
def test_redacted_hides_every_form_of_secret(dsn: str, shown: str) -> None:
    assert redacted(dsn) == shown
    assert SECRET not in redacted(dsn)
