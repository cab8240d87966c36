"""Reading a ``.curr`` file safely: size, binary content and encoding are checked before parsing."""

from __future__ import annotations

import stat
from pathlib import Path

from seethink_core.errors import MAX_SOURCE_BYTES, DslError, SourcePos

MAX_FILE_BYTES = MAX_SOURCE_BYTES


def _pos_of_offset(data: bytes, offset: int, file: str) -> SourcePos:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return SourcePos(file, line, col, col + 1)


def decode(data: bytes, file: str) -> str:
    """The text of a file's bytes, or a positioned ``DslError`` for binary or non-UTF-8 input."""
    if len(data) > MAX_FILE_BYTES:
        raise DslError(f"file is too large for a curriculum ({len(data) // (1024 * 1024)} MiB; "
                       f"the limit is {MAX_FILE_BYTES // (1024 * 1024)} MiB)", SourcePos(file, 1, 1))
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DslError("this is a binary file, not a curriculum (it contains a NUL byte)",
                       _pos_of_offset(data, nul, file))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DslError(f"file is not UTF-8 text: byte 0x{data[e.start]:02x} cannot start a character",
                       _pos_of_offset(data, e.start, file), hint="save the file as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def read(path: str | Path, display: str | None = None) -> str:
    """Read ``path`` as curriculum text; ``display`` is the name errors show.

    Only a regular file is read, and never more than the size limit: ``/dev/zero`` or ``/dev/urandom``
    would read without end, and opening a named pipe blocks until something writes to it.
    """
    name = display or str(path)
    p = Path(path)
    try:
        info = p.stat()  # follows links; does not open (and so cannot block on) a pipe
        if stat.S_ISDIR(info.st_mode):
            raise DslError(f"{name} is a folder, not a .curr file")
        if not stat.S_ISREG(info.st_mode):
            raise DslError(f"{name} is not a regular file (a device, a named pipe or a socket), so it is not read",
                           hint="give the path of a .curr file")
        if info.st_size > MAX_FILE_BYTES:
            raise DslError(f"file is too large for a curriculum ({info.st_size // (1024 * 1024)} MiB; "
                           f"the limit is {MAX_FILE_BYTES // (1024 * 1024)} MiB)", SourcePos(name, 1, 1))
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # a file that grew since stat() is still bounded
    except FileNotFoundError:
        raise DslError(f"no such file: {name}") from None
    except PermissionError:
        raise DslError(f"cannot read {name}: permission denied") from None
    except OSError as e:
        raise DslError(f"cannot read {name}: {e.strerror or e}") from None
    return decode(data, name)
