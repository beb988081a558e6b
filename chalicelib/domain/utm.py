"""ETRS89 / UTM zone 32N (EPSG:25832) <-> WGS84 longitude/latitude, in pure Python.

The Danish address services answer in EPSG:25832. pyproj would convert, but it installs some
30 MB (the PROJ library and its database), too heavy for the Lambda package, and one map
projection needs only the Transverse Mercator formulas. This module implements Krüger's n-series
to sixth order, as given by Karney (2011, "Transverse Mercator with an accuracy of a few
nanometres"), on the GRS80 ellipsoid. Across Denmark, Bornholm included (up to 6 degrees from
the central meridian), it agrees with PROJ to within nanometres. ETRS89 coordinates are used
as WGS84 ones unchanged: the two frames drift apart by about a metre, below what a map of
businesses (snapped to a 250 m grid for privacy) can show, and every web map does the same.
"""

from __future__ import annotations

import math

# GRS80, the ellipsoid of ETRS89.
_A = 6378137.0
_F = 1 / 298.257222101
# UTM zone 32N.
_K0 = 0.9996
_LON0 = math.radians(9.0)
_FALSE_EASTING = 500000.0
_FALSE_NORTHING = 0.0

_E = math.sqrt(_F * (2 - _F))  # first eccentricity
_N = _F / (2 - _F)  # third flattening
_N2, _N3, _N4, _N5, _N6 = (_N**k for k in range(2, 7))

# Rectifying radius times the scale factor: metres per radian of the series' xi/eta.
_K0A = _K0 * _A / (1 + _N) * (1 + _N2 / 4 + _N4 / 64 + _N6 / 256)

# Conformal -> rectifying (forward) coefficients alpha_1..alpha_6.
_ALPHA = (
    _N / 2 - 2 * _N2 / 3 + 5 * _N3 / 16 + 41 * _N4 / 180 - 127 * _N5 / 288 + 7891 * _N6 / 37800,
    13 * _N2 / 48 - 3 * _N3 / 5 + 557 * _N4 / 1440 + 281 * _N5 / 630 - 1983433 * _N6 / 1935360,
    61 * _N3 / 240 - 103 * _N4 / 140 + 15061 * _N5 / 26880 + 167603 * _N6 / 181440,
    49561 * _N4 / 161280 - 179 * _N5 / 168 + 6601661 * _N6 / 7257600,
    34729 * _N5 / 80640 - 3418889 * _N6 / 1995840,
    212378941 * _N6 / 319334400,
)
# Rectifying -> conformal (inverse) coefficients beta_1..beta_6.
_BETA = (
    _N / 2 - 2 * _N2 / 3 + 37 * _N3 / 96 - _N4 / 360 - 81 * _N5 / 512 + 96199 * _N6 / 604800,
    _N2 / 48 + _N3 / 15 - 437 * _N4 / 1440 + 46 * _N5 / 105 - 1118711 * _N6 / 3870720,
    17 * _N3 / 480 - 37 * _N4 / 840 - 209 * _N5 / 4480 + 5569 * _N6 / 90720,
    4397 * _N4 / 161280 - 11 * _N5 / 504 - 830251 * _N6 / 7257600,
    4583 * _N5 / 161280 - 108847 * _N6 / 3991680,
    20648693 * _N6 / 638668800,
)


def _conformal_tan(tau: float) -> float:
    """tan of the conformal latitude, from tau = tan of the geodetic latitude."""
    sigma = math.sinh(_E * math.atanh(_E * tau / math.hypot(1.0, tau)))
    return tau * math.hypot(1.0, sigma) - sigma * math.hypot(1.0, tau)


def _geodetic_tan(tau_c: float) -> float:
    """Inverse of _conformal_tan by Newton's method (Karney 2011, eq. 19-21): 2-3 steps."""
    e2m = 1 - _E * _E
    tau = tau_c
    for _ in range(8):
        tau_i = _conformal_tan(tau)
        step = (
            (tau_c - tau_i)
            / math.hypot(1.0, tau_i)
            * (1 + e2m * tau * tau)
            / (e2m * math.hypot(1.0, tau))
        )
        tau += step
        if abs(step) < 1e-14:
            break
    return tau


def wgs84_to_utm32(lon: float, lat: float) -> tuple[float, float]:
    """(easting, northing) in metres, EPSG:25832, of a WGS84/ETRS89 longitude and latitude."""
    lam = math.radians(lon) - _LON0
    tau_c = _conformal_tan(math.tan(math.radians(lat)))
    cos_lam = math.cos(lam)
    xi_c = math.atan2(tau_c, cos_lam)
    eta_c = math.asinh(math.sin(lam) / math.hypot(tau_c, cos_lam))
    xi, eta = xi_c, eta_c
    for j, alpha in enumerate(_ALPHA, start=1):
        xi += alpha * math.sin(2 * j * xi_c) * math.cosh(2 * j * eta_c)
        eta += alpha * math.cos(2 * j * xi_c) * math.sinh(2 * j * eta_c)
    return _FALSE_EASTING + _K0A * eta, _FALSE_NORTHING + _K0A * xi


def utm32_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """(lon, lat) in degrees, WGS84/ETRS89, of an EPSG:25832 easting and northing in metres."""
    xi = (northing - _FALSE_NORTHING) / _K0A
    eta = (easting - _FALSE_EASTING) / _K0A
    xi_c, eta_c = xi, eta
    for j, beta in enumerate(_BETA, start=1):
        xi_c -= beta * math.sin(2 * j * xi) * math.cosh(2 * j * eta)
        eta_c -= beta * math.cos(2 * j * xi) * math.sinh(2 * j * eta)
    sinh_eta = math.sinh(eta_c)
    cos_xi = math.cos(xi_c)
    tau_c = math.sin(xi_c) / math.hypot(sinh_eta, cos_xi)
    lam = math.atan2(sinh_eta, cos_xi)
    lat = math.degrees(math.atan(_geodetic_tan(tau_c)))
    return math.degrees(lam + _LON0), lat
