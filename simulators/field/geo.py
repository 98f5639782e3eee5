"""Positions for the field simulator: job sites, distances, the geofence (D11-3).

The profile gives no coordinates for the network, so every transformer gets a deterministic
job-site position near the crew homes: around the centre of the crews' home positions, at a
distance between ``min_m`` and ``max_m`` (default 1 to 5 km) and a bearing, both taken from the
SHA-256 of the transformer id. The same profile therefore always puts a transformer at the same
place, on every machine. A usage point with no known transformer is placed the same way from its
ESIID.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

__all__ = ["EARTH_RADIUS_M", "centre", "distance_m", "offset", "site_for"]

EARTH_RADIUS_M = 6_371_000.0
#: Where crews live when a profile lists none (Austin, TX).
DEFAULT_CENTRE = (30.2672, -97.7431)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance in metres between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def offset(origin: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``metres`` away from ``origin`` on ``bearing_deg`` (0 = north, 90 = east)."""
    lat, lon = map(math.radians, origin)
    d = metres / EARTH_RADIUS_M
    b = math.radians(bearing_deg)
    lat2 = math.asin(math.sin(lat) * math.cos(d) + math.cos(lat) * math.sin(d) * math.cos(b))
    lon2 = lon + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(lat), math.cos(d) - math.sin(lat) * math.sin(lat2)
    )
    return (round(math.degrees(lat2), 6), round(math.degrees(lon2), 6))


def centre(points: Iterable[tuple[float, float]]) -> tuple[float, float]:
    pts = list(points)
    if not pts:
        return DEFAULT_CENTRE
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def site_for(
    key: str, around: tuple[float, float], *, min_m: float = 1000.0, max_m: float = 5000.0
) -> tuple[float, float]:
    """The deterministic job-site position of ``key`` (a transformer id or an ESIID)."""
    h = hashlib.sha256(key.encode("utf-8")).digest()
    bearing = int.from_bytes(h[0:2], "big") / 65535 * 360.0
    dist = min_m + int.from_bytes(h[2:4], "big") / 65535 * (max_m - min_m)
    return offset(around, dist, bearing)
