#!/usr/bin/env python3
"""Writes VRAMscope's icon, vramscope.svg and vramscope.ico (16 and 32 px PNGs inside), from one
description: a dark rounded square holding a block map (rows of memory blocks, sub-allocations coloured
by kind, free space left dark). Drawn for this project (same licence as the repository). The output is
committed; run `python3 assets/icons/make-icons.py` after changing the design. Standard library only."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 64  # design units
BACKGROUND = (0x11, 0x14, 0x18)
FRAME = (0x2A, 0x31, 0x3A)
RADIUS = 12
# Block rows: (y, height, [(x, width, colour)]) in design units; x runs 8..56.
TEAL, AMBER, VIOLET, ROSE = (0x2D, 0xD4, 0xBF), (0xF5, 0x9E, 0x0B), (0x8B, 0x5C, 0xF6), (0xF4, 0x3F, 0x5E)
ROWS = [
    (10, 10, [(8, 18, TEAL), (28, 10, AMBER), (40, 16, TEAL)]),
    (23, 10, [(8, 8, VIOLET), (18, 22, TEAL), (48, 8, AMBER)]),
    (36, 10, [(8, 26, AMBER), (44, 12, VIOLET)]),
    (49, 6, [(8, 12, ROSE), (22, 6, TEAL), (34, 22, TEAL)]),
]


def hex_colour(c):
    return '#%02x%02x%02x' % c


def svg():
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}">',
        f'<rect x="1" y="1" width="{SIZE - 2}" height="{SIZE - 2}" rx="{RADIUS}" fill="{hex_colour(BACKGROUND)}"'
        f' stroke="{hex_colour(FRAME)}" stroke-width="2"/>',
    ]
    for y, h, blocks in ROWS:
        parts.append(f'<rect x="8" y="{y}" width="48" height="{h}" rx="1.5" fill="{hex_colour(FRAME)}"/>')
        for x, w, c in blocks:
            parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="1.5" fill="{hex_colour(c)}"/>')
    parts.append('</svg>')
    return '\n'.join(parts) + '\n'


def inside_rounded(px, py):
    """Whether design point (px, py) is inside the background's rounded square."""
    lo, hi = 1 + RADIUS, SIZE - 1 - RADIUS
    cx = min(max(px, lo), hi)
    cy = min(max(py, lo), hi)
    return (px - cx) ** 2 + (py - cy) ** 2 <= RADIUS ** 2 and 1 <= px <= SIZE - 1 and 1 <= py <= SIZE - 1


def colour_at(px, py):
    """RGBA at a design point (sampled at pixel centres)."""
    if not inside_rounded(px, py):
        return (0, 0, 0, 0)
    for y, h, blocks in ROWS:
        if y <= py < y + h and 8 <= px < 56:
            for x, w, c in blocks:
                if x <= px < x + w:
                    return c + (255,)
            return FRAME + (255,)
    return BACKGROUND + (255,)


def png(pixels):
    """A PNG with one 4x4-supersampled RGBA image of `pixels` x `pixels`."""
    rows = []
    scale = SIZE / pixels
    for j in range(pixels):
        row = bytearray([0])
        for i in range(pixels):
            acc = [0, 0, 0, 0]
            for sj in range(4):
                for si in range(4):
                    c = colour_at((i + (si + 0.5) / 4) * scale, (j + (sj + 0.5) / 4) * scale)
                    for k in range(3):
                        acc[k] += c[k] * c[3]
                    acc[3] += c[3]
            a = acc[3] / 16
            row += bytes([round(acc[k] / acc[3]) if acc[3] else 0 for k in range(3)] + [round(a)])
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack('>IIBBBBB', pixels, pixels, 8, 6, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(b''.join(rows), 9)) + chunk(b'IEND', b'')


def ico(sizes):
    """An ICO whose images are PNGs (read by every browser and by Windows Vista and later)."""
    images = [png(s) for s in sizes]
    out = struct.pack('<HHH', 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for s, data in zip(sizes, images):
        out += struct.pack('<BBBBHHII', s % 256, s % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b''.join(images)


if __name__ == '__main__':
    with open(os.path.join(HERE, 'vramscope.svg'), 'w') as f:
        f.write(svg())
    with open(os.path.join(HERE, 'vramscope.ico'), 'wb') as f:
        f.write(ico([16, 32, 48]))
    with open(os.path.join(HERE, 'vramscope-256.png'), 'wb') as f:
        f.write(png(256))
