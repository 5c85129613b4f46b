#!/usr/bin/env python3
"""Draws the extension's icons (an indigo tile with a white beacon: a dot and two arcs) as PNGs.
Run once; the PNGs are committed. Standard library only, so no image package is needed."""
import math, os, struct, zlib

BRAND = (67, 56, 202)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static', 'icons')

def coverage(x, y):
    """1.0 where the white mark is, 0.0 elsewhere; x, y in 0..1."""
    cx, cy = 0.34, 0.66
    d = math.hypot(x - cx, y - cy)
    if d <= 0.11:
        return 1.0
    angle = math.atan2(cy - y, x - cx)  # 0 = right, pi/2 = up
    if -0.15 <= angle <= math.pi / 2 + 0.15:
        for radius in (0.30, 0.48):
            if abs(d - radius) <= 0.055:
                return 1.0
    return 0.0

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
