"""Connection strings with their secrets hidden, for anything that prints one.

A ``postgresql://`` URL or a libpq ``key=value`` string may carry a secret in
the URL's user info or in a parameter: libpq marks ``password``,
``sslpassword`` (the client key's passphrase) and ``oauth_client_secret`` as
secret (``PQconndefaults``' ``dispchar`` ``*``); ``passfile`` and ``sslkey``
name files, not secrets. Parsers disagree about where a URL's user info ends
(libpq: the first ``@`` before ``/``; urllib also stops at ``?`` and ``#``), so
everything that any of them may read as the password is hidden.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

#: Connection parameters that hold a secret (matched in any case).
SECRET_KEYS = frozenset({"password", "sslpassword", "oauth_client_secret"})

HIDDEN = "***"

_URL = re.compile(r"(?P<scheme>\s*(?i:postgres(?:ql)?)://)(?P<rest>.*)", re.DOTALL)

# A key/value string's ``key = value``: the value quoted (with \ escapes) or
# bare up to the next space (\ escapes there too, as libpq reads it).
_KEY_VALUE = re.compile(
    r"(?P<key>\b[A-Za-z_]+)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\[\s\S])*'?|(?:[^\s\\]|\\[\s\S])*\\?)"
)


def redacted(dsn: str) -> str:
    """``dsn`` (a URL or a ``key=value`` string) with every secret as ``***``.

    Hidden: a URL's user-info password and the value of each secret parameter
    (its name percent-encoded or not); the rest is kept as written.
    """
    url = _URL.fullmatch(dsn)
    if url is None:
        return _KEY_VALUE.sub(_hide_key_value, dsn)
    rest = _hide_userinfo_password(url["rest"])
    before, mark, query = rest.partition("?")
    if mark:
        query = "&".join(_hide_parameter(item) for item in query.split("&"))
    return url["scheme"] + before + mark + query


def _hide_userinfo_password(rest: str) -> str:
    """Hide from the user info's first ``:`` to the authority's last ``@``
    (the authority ends at the first ``/``), whichever parser reads it."""
    authority, slash, path = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not (at and colon):
        return rest
    return f"{user}:{HIDDEN}@{hosts}{slash}{path}"


def _hide_parameter(item: str) -> str:
    key, sep, _ = item.partition("=")
    if sep and unquote_plus(key).strip().lower() in SECRET_KEYS:
        return f"{key}={HIDDEN}"
    return item


def _hide_key_value(match: re.Match[str]) -> str:
    if match["key"].lower() in SECRET_KEYS:
        return f"{match['key']}{match['eq']}{HIDDEN}"
    return match[0]
