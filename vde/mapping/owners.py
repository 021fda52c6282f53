"""The integer map-owner id of an auth user, made on first use without races.

Coordinates name a map's owner by an integer (``vde_user_mapping.mapping_user_id``),
not by the auth user's text id. "max + 1" would give two new users the same id
when they race, so new ids come from the sequence
``vde_user_mapping_mapping_user_id_seq``: no two callers ever draw the same
value and none waits for another's transaction.
``ON CONFLICT (auth_user_id) DO NOTHING`` makes concurrent first calls for one
user agree: the later one waits for the earlier one's row and returns its id.
docs/usage.md ("The map's operations").
"""

from __future__ import annotations

import asyncpg

from vde.errors import UserNotFoundError, VdeError, echo
from vde.mapping.arguments import check_user_id
from vde.mapping.table_names import USER_MAPPING
from vde.mapping.violations import broken_rule
from vde.transactions import Executor, transaction_of

SEQUENCE = "vde_user_mapping_mapping_user_id_seq"
_MAPPING_ID_UNIQUE = "vde_user_mapping_mapping_user_id_key"
#: The rule a mapping of an id no ``vde_users`` row has breaks.
_USER_EXISTS = "vde_user_mapping_auth_user_id_fkey"
#: Collisions with ids given by hand (an import, a test) before giving up.
_ATTEMPTS = 5

_FIND = f"SELECT mapping_user_id FROM {USER_MAPPING} WHERE auth_user_id = $1"
_CREATE = f"""
INSERT INTO {USER_MAPPING} (auth_user_id, mapping_user_id)
VALUES ($1, nextval('{SEQUENCE}'))
ON CONFLICT (auth_user_id) DO NOTHING
RETURNING mapping_user_id
"""
#: Ids written by hand may lie ahead of the sequence: move it past them.
_CATCH_UP = f"""
SELECT setval('{SEQUENCE}', greatest(max(mapping_user_id), 1))
FROM {USER_MAPPING}
"""


async def mapping_user_id_for(executor: Executor, auth_user_id: str) -> int:
    """The map-owner id of ``auth_user_id``, created on the first call.

    Concurrent first calls for one user return the same id; calls for
    different users never collide. Relies on READ COMMITTED (asyncpg's
    default): a later statement must see the row a concurrent call committed.
    An id no ``vde_users`` row has raises ``UserNotFoundError``.
    """
    check_user_id("auth_user_id", auth_user_id)
    async with transaction_of(executor) as conn:
        found = await conn.fetchval(_FIND, auth_user_id)
        if found is not None:
            return int(found)
        for _ in range(_ATTEMPTS):
            try:
                async with conn.transaction():
                    created = await conn.fetchval(_CREATE, auth_user_id)
            except asyncpg.ForeignKeyViolationError as error:
                if broken_rule(error) != _USER_EXISTS:
                    raise
                raise UserNotFoundError(
                    f"no user has id {echo(auth_user_id)}; create the user first"
                ) from error
            except asyncpg.UniqueViolationError as error:
                if broken_rule(error) != _MAPPING_ID_UNIQUE:
                    raise
                await conn.execute(_CATCH_UP)
                continue
            if created is None:  # a concurrent first call won
                created = await conn.fetchval(_FIND, auth_user_id)
            return int(created)
    raise VdeError(
        f"no free map-owner id after {_ATTEMPTS} attempts: ids given by hand keep "
        f"overtaking {SEQUENCE}; set it past max(mapping_user_id) and retry"
    )
