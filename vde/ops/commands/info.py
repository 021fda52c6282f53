"""``piccolo vde info``: which server vde is talking to, and its version."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from piccolo.engine import engine_finder

#: Connection parameters that hold a secret (libpq's names; any case).
SECRET_KEYS = frozenset({"password", "sslpassword"})

HIDDEN = "***"

# A key/value DSN's ``key = value``: the value bare, or quoted with \\ escapes.
_KEY_VALUE = re.compile(
    r"(?P<key>\b[A-Za-z_]+)(?P<eq>\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|\S*)"
)


def redacted(dsn: str) -> str:
    """``dsn`` (a URL or a ``key=value`` string) with every password hidden.

    Covers a URL's userinfo, its ``?password=`` (any case, also
    ``sslpassword``), and the same keys in a key/value DSN; safe for logs.
    """
    if "://" not in dsn:
        return _KEY_VALUE.sub(_hide_key_value, dsn)
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:{HIDDEN}@{hosts}"
    query = "&".join(_hide_parameter(item) for item in parts.query.split("&"))
    # Rebuilt by hand: urlunsplit would drop the "//" of an empty host.
    url = f"{parts.scheme}://{netloc}{parts.path}"
    url += f"?{query}" if query else ""
    return url + (f"#{parts.fragment}" if parts.fragment else "")


def _hide_parameter(item: str) -> str:
    key, sep, _ = item.partition("=")
    if sep and unquote(key).strip().lower() in SECRET_KEYS:
        return f"{key}={HIDDEN}"
    return item


def _hide_key_value(match: re.Match[str]) -> str:
    if match["key"].lower() in SECRET_KEYS:
        return f"{match['key']}{match['eq']}{HIDDEN}"
    return match[0]


async def info() -> None:
    """Print the database URL (password hidden) and the server's version."""
    engine = engine_finder()
    if engine is None:
        raise SystemExit("No engine: is piccolo_conf.py (or PICCOLO_CONF) set up?")
    rows = await engine.run_ddl("SELECT version() AS version, current_database() AS db")
    dsn = str(getattr(engine, "config", {}).get("dsn", "?"))
    print(f"database: {redacted(dsn)}")
    print(f"server:   {rows[0]['version']}")
