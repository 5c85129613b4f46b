#!/usr/bin/env python3
"""Draws the extension's icons (an indigo tile with a white envelope) as PNGs.
Run once; the PNGs are committed. Standard library only, so no image package is needed."""
import math, os, struct, zlib

BRAND = (67, 56, 202)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static', 'icons')

def _distance_to_segment(x, y, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))

def coverage(x, y):
    """1.0 where the white mark is, 0.0 elsewhere; x, y in 0..1. The mark is an envelope (an
    invitation) whose flap is cut out of it in the tile's colour: it reads as mail at 16 px."""
    left, right, top, bottom = 0.18, 0.82, 0.28, 0.74
    if not (left <= x <= right and top <= y <= bottom):
        return 0.0
    fold_x, fold_y = 0.5, 0.54
    flap = min(_distance_to_segment(x, y, left, top, fold_x, fold_y),
               _distance_to_segment(x, y, right, top, fold_x, fold_y))
    return 0.0 if flap <= 0.045 else 1.0

def inside_tile(x, y, r=0.2):
    qx, qy = min(x, 1 - x), min(y, 1 - y)
    if qx >= r or qy >= r:
        return True
    return math.hypot(r - qx, r - qy) <= r

def pixel(px, py, size, samples=4):
    tile = mark = 0
    for sx in range(samples):
        for sy in range(samples):
            x = (px + (sx + 0.5) / samples) / size
            y = (py + (sy + 0.5) / samples) / size
            if inside_tile(x, y):
                tile += 1
                mark += coverage(x, y)
    n = samples * samples
    alpha = tile / n
    if tile == 0:
        return (0, 0, 0, 0)
    white = mark / tile
    rgb = tuple(round(c * (1 - white) + 255 * white) for c in BRAND)
    return rgb + (round(255 * alpha),)

def png(size):
    rows = b''
    for py in range(size):
        rows += b'\x00' + b''.join(bytes(pixel(px, py, size)) for px in range(size))
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    header = struct.pack('>IIBBBBB', size, size, 8, 6, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b'')

os.makedirs(OUT, exist_ok=True)
for size in (16, 32, 48, 128):
    with open(os.path.join(OUT, f'icon-{size}.png'), 'wb') as f:
        f.write(png(size))
