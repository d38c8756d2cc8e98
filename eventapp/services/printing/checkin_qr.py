"""The badge QR code: a registration's check-in code as a PNG, encoded once and stored.

One pixel per module (printed with `image-rendering: pixelated`) keeps the image tiny and far
cheaper for WeasyPrint than SVG paths; a fixed mask skips segno's mask search, most of the
encoding time. Scanners read every mask.
"""

from __future__ import annotations

import struct
import zlib


def checkin_qr_png(code: str) -> bytes:
    """Encode a check-in code as a QR code PNG with one pixel per module and a quiet zone."""
    import segno

    qr = segno.make_qr(code, error="m", mask=0, boost_error=False)
    border = 2
    size = len(qr.matrix) + 2 * border
    blank = b"\x00" + b"\xff" * size
    rows = [blank] * border
    rows += [
        b"\x00" + b"\xff" * border + bytes(0 if dark else 255 for dark in row) + b"\xff" * border
        for row in qr.matrix
    ]
    rows += [blank] * border

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
