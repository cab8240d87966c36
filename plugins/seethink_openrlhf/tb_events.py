"""Read scalars from TensorBoard event files as they grow, without tensorboard or protobuf installed.

An event file is a sequence of TFRecords (``uint64 length, uint32 crc, data, uint32 crc``) whose
data is an ``Event`` protobuf: ``step`` is field 2 and ``summary`` field 5; a ``Summary`` repeats
``value`` (field 1) with ``tag`` (1) and ``simple_value`` (2, a float: what ``add_scalar`` writes,
as OpenRLHF's ``TensorboardLogger`` does through torch's ``SummaryWriter``) or a scalar ``tensor``
(8, ``TensorProto.float_val`` field 5 / ``double_val`` field 6). Only what the launcher needs is
decoded; a record still being written is left for the next read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """``(field number, wire type, value)`` of one protobuf message; value is int, bytes or raw 4/8 bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:  # groups (3, 4) are not used by TensorBoard events
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _tensor_scalar(buf: bytes) -> float | None:
    for number, wire, value in _fields(buf):
        if number == 5 and wire == 5:
            return struct.unpack("<f", value)[0]
        if number == 5 and wire == 2 and len(value) >= 4:  # packed float_val
            return struct.unpack("<f", value[:4])[0]
        if number == 6 and wire == 1:
            return struct.unpack("<d", value)[0]
        if number == 6 and wire == 2 and len(value) >= 8:
            return struct.unpack("<d", value[:8])[0]
    return None


def parse_event(data: bytes) -> tuple[int, dict[str, float]]:
    """``(step, {tag: value})`` of one serialized ``Event`` (text and images are skipped)."""
    step = 0
    scalars: dict[str, float] = {}
    for number, wire, value in _fields(data):
        if number == 2 and wire == 0:
            step = value
        elif number == 5 and wire == 2:
            for vnum, vwire, vbuf in _fields(value):
                if vnum != 1 or vwire != 2:
                    continue
                tag, scalar = None, None
                for fnum, fwire, fval in _fields(vbuf):
                    if fnum == 1 and fwire == 2:
                        tag = fval.decode("utf-8", "replace")
                    elif fnum == 2 and fwire == 5:
                        scalar = struct.unpack("<f", fval)[0]
                    elif fnum == 8 and fwire == 2:
                        scalar = _tensor_scalar(fval)
                if tag is not None and scalar is not None:
                    scalars[tag] = float(scalar)
    return step, scalars


@dataclass
class EventTail:
    """Follows every ``events.out.tfevents.*`` file under a folder, returning new scalars per read."""

    root: Path
    _offsets: dict[Path, int] = field(default_factory=dict)

    def read(self) -> list[tuple[int, dict[str, float]]]:
        """New ``(step, scalars)`` records since the last read, in file order."""
        out: list[tuple[int, dict[str, float]]] = []
        if not self.root.is_dir():
            return out
        for path in sorted(self.root.rglob("events.out.tfevents.*")):
            offset = self._offsets.get(path, 0)
            try:
                with path.open("rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            pos = 0
            while pos + 12 <= len(data):
                (length,) = struct.unpack("<Q", data[pos:pos + 8])
                end = pos + 12 + length + 4
                if end > len(data):
                    break  # a record still being written
                try:
                    step, scalars = parse_event(data[pos + 12:pos + 12 + length])
                except (ValueError, IndexError, struct.error):
                    step, scalars = 0, {}  # a record we cannot read is skipped, never fatal
                if scalars:
                    out.append((step, scalars))
                pos = end
            self._offsets[path] = offset + pos
        return out
