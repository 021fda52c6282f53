"""Files in a folder another OS user controls, handled without following links.

Started as root, vde keeps the embedded server's files in a data folder that
belongs to the server's OS user, who may swap any name there for a symbolic
link, a hard link to a root-owned file, or a FIFO. So vde reads only regular
files, opened with ``O_NOFOLLOW`` and without blocking; it never writes into a
file it did not just create: it writes a new file under a name of its own and
renames it into place (a rename replaces the name, never what a link points
at); and it changes mode and owner only through that new file's descriptor.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

#: Owner (uid, gid) to give a new file, or None to keep the caller's.
Owner = tuple[int, int] | None
#: A symbolic link fails to open, and a FIFO does not hang the open.
_NO_LINK = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_folder(path: Path | str, dir_fd: int | None = None) -> int:
    """A descriptor of the folder ``path`` (not of a link's target), for the
    ``dir_fd`` of the functions below."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(path, flags, dir_fd=dir_fd)


def read_regular(dir_fd: int, name: str, limit: int = 1 << 16) -> bytes | None:
    """The first ``limit`` bytes of the regular file ``name``; None when there
    is none (missing, or a link, a FIFO, a folder)."""
    try:
        fd = os.open(name, os.O_RDONLY | _NO_LINK, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit)
    finally:
        os.close(fd)


def exists(dir_fd: int, name: str) -> bool:
    """``name`` is in the folder (a link counts; it is not followed)."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def replace(dir_fd: int, name: str, data: bytes, owner: Owner) -> None:
    """Make ``name`` a new regular file holding ``data`` (mode 0600)."""
    os.close(_new_file(dir_fd, name, data, owner))


def open_appendable(dir_fd: int, name: str, owner: Owner) -> int:
    """A descriptor appending to ``name`` when it is a regular file of the
    folder's user already (who may write it anyway), else to a new empty one."""
    uid = os.geteuid() if owner is None else owner[0]
    try:
        fd = os.open(name, os.O_RDWR | os.O_APPEND | _NO_LINK, dir_fd=dir_fd)
    except OSError:
        pass
    else:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == uid:
            return fd
        os.close(fd)
    return _new_file(dir_fd, name, b"", owner)


def tail(fd: int, size: int) -> str:
    """The last ``size`` bytes of the open file ``fd``, as text."""
    end = os.fstat(fd).st_size
    return os.pread(fd, size, max(0, end - size)).decode(errors="replace")


def _new_file(dir_fd: int, name: str, data: bytes, owner: Owner) -> int:
    """Create, fill and rename into place a file of ``owner``; its descriptor."""
    temporary = f".{name}.{os.getpid()}-{secrets.token_hex(4)}"
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | _NO_LINK
    fd = os.open(temporary, flags, 0o600, dir_fd=dir_fd)
    try:
        if owner is not None:
            os.fchown(fd, *owner)
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except OSError:
            pass
        raise
    return fd
