"""Reading who produced an LLVM bitcode file: the IDENTIFICATION block of the bitstream.

LLVM (3.8 and later) writes an IDENTIFICATION_BLOCK (id 13) right before each MODULE_BLOCK. Its STRING
record holds the producer, e.g. "LLVM22.1.8", and its EPOCH record the bitcode epoch (0 so far); this is
what `llvm-bcanalyzer -dump` prints as `record string = 'LLVM22.1.8'`. This module owns just enough of the
bitstream container format to find that record: bit-level reads, VBR fields, abbreviation definitions,
and skipping other blocks by their recorded length. It also unwraps the Darwin wrapper header
(0x0B17C0DE). It never needs more than the first few hundred bytes of a file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "BITCODE_MAGIC",
    "WRAPPER_MAGIC",
    "BitcodeError",
    "BitcodeIdentification",
    "is_bitcode",
    "unwrap_bitcode",
    "read_identification",
]

BITCODE_MAGIC = b"BC\xc0\xde"
WRAPPER_MAGIC = b"\xde\xc0\x17\x0b"  # 0x0B17C0DE, little-endian

_IDENTIFICATION_BLOCK_ID = 13
_MODULE_BLOCK_ID = 8
_IDENTIFICATION_CODE_STRING = 1
_IDENTIFICATION_CODE_EPOCH = 2

# Abbreviation ids that every block understands.
_END_BLOCK, _ENTER_SUBBLOCK, _DEFINE_ABBREV, _UNABBREV_RECORD = 0, 1, 2, 3
# Operand encodings inside DEFINE_ABBREV.
_FIXED, _VBR, _ARRAY, _CHAR6, _BLOB = 1, 2, 3, 4, 5
_CHAR6_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"
_MAX_TOP_LEVEL_BLOCKS = 64


class BitcodeError(ValueError):
    """The bytes claim to be bitcode but the bitstream is truncated or malformed."""


@dataclass(frozen=True)
class BitcodeIdentification:
    producer: str | None  # "LLVM22.1.8"; None when the file predates IDENTIFICATION blocks (LLVM < 3.8)
    epoch: int | None


def is_bitcode(data: bytes | memoryview) -> bool:
    """True for raw (`BC\\xC0\\xDE`) or wrapped (0x0B17C0DE) LLVM bitcode."""
    head = bytes(data[:4])
    return head in (BITCODE_MAGIC, WRAPPER_MAGIC)


def unwrap_bitcode(data: bytes | memoryview) -> memoryview:
    """The raw bitstream: strips the wrapper header (magic, version, offset, size, cputype) if present."""
    view = memoryview(data)
    if bytes(view[:4]) != WRAPPER_MAGIC:
        return view
    if len(view) < 20:
        raise BitcodeError("truncated bitcode wrapper header")
    _magic, _version, offset, size, _cputype = struct.unpack_from("<5I", view, 0)
    if offset + size > len(view) or size < 4:
        raise BitcodeError(f"bitcode wrapper points outside the file (offset {offset}, size {size})")
    return view[offset:offset + size]


class _BitReader:
    """Little-endian bit reader over a bitstream: fields are packed from the low bit of each byte up."""

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._bits = len(data) * 8
        self.pos = 0

    def read(self, width: int) -> int:
        if width == 0:
            return 0
        end = self.pos + width
        if end > self._bits:
            raise BitcodeError("truncated bitstream")
        first, last = self.pos // 8, (end + 7) // 8
        value = int.from_bytes(self._data[first:last], "little") >> (self.pos % 8)
        self.pos = end
        return value & ((1 << width) - 1)

    def vbr(self, width: int) -> int:
        high = 1 << (width - 1)
        value, shift = 0, 0
        while True:
            chunk = self.read(width)
            value |= (chunk & (high - 1)) << shift
            if not chunk & high:
                return value
            shift += width - 1
            if shift > 64:
                raise BitcodeError("VBR field longer than 64 bits")

    def align32(self) -> None:
        self.pos = (self.pos + 31) // 32 * 32

    def skip_words(self, words: int) -> None:
        self.pos += words * 32
        if self.pos > self._bits:
            raise BitcodeError("block length points past the end of the bitstream")


_Operand = tuple[bool, int, int]  # (is_literal, literal value or encoding, encoding width)


def _read_abbrev_definition(bits: _BitReader) -> list[_Operand]:
    operands: list[_Operand] = []
    for _ in range(bits.vbr(5)):
        if bits.read(1):
            operands.append((True, bits.vbr(8), 0))
            continue
        encoding = bits.read(3)
        if encoding in (_FIXED, _VBR):
            operands.append((False, encoding, bits.vbr(5)))
        elif encoding in (_ARRAY, _CHAR6, _BLOB):
            operands.append((False, encoding, 0))
        else:
            raise BitcodeError(f"unknown abbreviation operand encoding {encoding}")
    return operands


def _read_scalar(bits: _BitReader, operand: _Operand) -> int:
    is_literal, encoding, width = operand
    if is_literal:
        return encoding
    if encoding == _FIXED:
        return bits.read(width)
    if encoding == _VBR:
        return bits.vbr(width)
    if encoding == _CHAR6:
        return ord(_CHAR6_ALPHABET[bits.read(6)])
    raise BitcodeError("array or blob used as an array element")


def _read_abbreviated_record(bits: _BitReader, abbrev: list[_Operand]) -> list[int]:
    """All fields of one abbreviated record, the record code first."""
    fields: list[int] = []
    index = 0
    while index < len(abbrev):
        operand = abbrev[index]
        is_literal, encoding, _width = operand
        if is_literal or encoding not in (_ARRAY, _BLOB):
            fields.append(_read_scalar(bits, operand))
        elif encoding == _ARRAY:
            if index + 1 >= len(abbrev):
                raise BitcodeError("array abbreviation without an element type")
            element = abbrev[index + 1]
            fields.extend(_read_scalar(bits, element) for _ in range(bits.vbr(6)))
            index += 1
        else:  # blob
            length = bits.vbr(6)
            bits.align32()
            fields.extend(bits.read(8) for _ in range(length))
            bits.align32()
        index += 1
    return fields


def _read_identification_block(bits: _BitReader, width: int) -> BitcodeIdentification:
    abbrevs: list[list[_Operand]] = []
    producer: str | None = None
    epoch: int | None = None
    while True:
        abbrev_id = bits.read(width)
        if abbrev_id == _END_BLOCK:
            bits.align32()
            return BitcodeIdentification(producer, epoch)
        if abbrev_id == _ENTER_SUBBLOCK:
            bits.vbr(8)
            bits.vbr(4)
            bits.align32()
            bits.skip_words(bits.read(32))
            continue
        if abbrev_id == _DEFINE_ABBREV:
            abbrevs.append(_read_abbrev_definition(bits))
            continue
        if abbrev_id == _UNABBREV_RECORD:
            code = bits.vbr(6)
            fields = [code] + [bits.vbr(6) for _ in range(bits.vbr(6))]
        else:
            index = abbrev_id - 4
            if index >= len(abbrevs):
                raise BitcodeError(f"record uses undefined abbreviation {abbrev_id}")
            fields = _read_abbreviated_record(bits, abbrevs[index])
        code, values = fields[0], fields[1:]
        if code == _IDENTIFICATION_CODE_STRING:
            producer = "".join(chr(v) for v in values if 0 < v < 0x110000)
        elif code == _IDENTIFICATION_CODE_EPOCH and values:
            epoch = values[0]


def read_identification(data: bytes | memoryview) -> BitcodeIdentification:
    """The producer string and epoch of the first module in a (possibly wrapped) bitcode file.

    Producer and epoch are None when no IDENTIFICATION block precedes the module (LLVM older than 3.8).
    Raises `BitcodeError` if the bytes are not bitcode, the stream is malformed, or the first module
    block runs past the end of the data (a truncated file).
    """
    stream = unwrap_bitcode(data)
    if bytes(stream[:4]) != BITCODE_MAGIC:
        raise BitcodeError("not LLVM bitcode (no 'BC\\xC0\\xDE' magic)")
    bits = _BitReader(stream)
    bits.pos = 32
    found = BitcodeIdentification(None, None)
    for _ in range(_MAX_TOP_LEVEL_BLOCKS):
        if bits.pos + 2 > len(stream) * 8:
            break
        if bits.read(2) != _ENTER_SUBBLOCK:
            raise BitcodeError("expected a block at the top level of the bitstream")
        block_id = bits.vbr(8)
        width = bits.vbr(4)
        bits.align32()
        words = bits.read(32)
        if block_id == _IDENTIFICATION_BLOCK_ID:
            found = _read_identification_block(bits, width)
            continue
        # Skipping the module block checks that the file holds all of it: a cheap truncation test.
        bits.skip_words(words)
        if block_id == _MODULE_BLOCK_ID:
            return found
    raise BitcodeError("no complete module block in the bitstream")
