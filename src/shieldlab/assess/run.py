"""Assessing each [[assessments]] table of a scenario (docs/models.md, Assessing a missile from a flight test).

Burnout types fit (v_bo, gamma); staged types fit (kick, payload mass) and then, for comparison, a burnout type
with the fitted staged flight's burn time, burnout altitude and burnout range. Each fit then gives the maximum
range along the test's azimuth and along every AZIMUTH_STEP_DEG, and the catalog places within reach. An
assessment that cannot be done gets an error sentence; the others go on.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab import catalog
from shieldlab.assess import fit as fitting
from shieldlab.assess import flights
from shieldlab.assess.results import (AssessResult, Assessment, FitResult, MinimumFound, ObservationFit,
                                      PlaceInReach, Reach)
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import G0_M_S2, AssessmentSpec, MissileType, Point, Scenario, StagedMissileType
from shieldlab.threat import staged

AZIMUTH_STEP_DEG = 5.0
SWEEP_AZIMUTHS_DEG = np.arange(0.0, 360.0, AZIMUTH_STEP_DEG)
AZIMUTH_TOL_DEG = 0.01  # a test aimed at its observed impact point: the launch azimuth is corrected to this
AZIMUTH_ROUNDS = 4
# starts of the fits (a grid over the free parameters), their bounds, difference steps and merging tolerances
BURNOUT_STARTS = [(v, g) for v in (3000.0, 5000.0, 7000.0) for g in (30.0, 60.0, 75.0, 85.0)]
BURNOUT_BOUNDS = ((100.0, 0.5), (11000.0, 89.5))  # (v_bo m/s, gamma deg)
BURNOUT_STEP = (1e-2, 1e-4)
BURNOUT_SAME = (1.0, 0.01)
KICK_STARTS_DEG = (0.3, 1.0, 3.0, 10.0, 30.0)
PAYLOAD_STARTS = (0.5, 1.0, 2.0)  # times the type's payload
STAGED_KICK_BOUNDS = (0.01, 89.9)
PAYLOAD_MIN_KG = 1.0
LIFT_MARGIN = 0.99  # the heaviest payload tried: this fraction of the one whose weight equals the first thrust
STAGED_STEP = (1e-4, 1e-2)
STAGED_SAME = (0.01, 1.0)


class AssessmentError(Exception):
    """Why one assessment cannot be done (a sentence for the user)."""


def assess(scenario: Scenario) -> AssessResult:
    """Assess every [[assessments]] table of the scenario."""
    earth = Earth.from_spec(scenario.earth)
    places = _places(scenario)
    out = []
    for spec in scenario.assessments:
        mt = scenario.missiles[spec.missile]
        az = _initial_azimuth(earth, spec)
        try:
            out.append(_assess_one(earth, spec, mt, az, places))
        except AssessmentError as e:
            out.append(Assessment(spec, mt.model, az, (), str(e)))
    return AssessResult(scenario.name, scenario.source, scenario.earth, tuple(out))


def _places(scenario: Scenario) -> dict[str, Point]:
    """The places to check for reach: the catalog's, then the file's own (whose names win)."""
    out = {e.name: e.model for e in catalog.entries("places")}
    out.update(scenario.places)
    return out


def _initial_azimuth(earth: Earth, spec: AssessmentSpec) -> float:
    if spec.azimuth_deg is not None:
        return float(spec.azimuth_deg)
    az, _ = geodesic.inverse(earth, spec.launch.lat_deg, spec.launch.lon_deg, spec.impact.lat_deg,
                             spec.impact.lon_deg)
    return float(az) % 360.0


def _observed(spec: AssessmentSpec) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    names, values, pct = ["apogee", "flight_time"], [spec.observed_apogee_m, spec.observed_flight_time_s], \
        [spec.apogee_uncertainty_pct, spec.flight_time_uncertainty_pct]
    if spec.observed_ground_range_m is not None:
        names.append("ground_range")
        values.append(spec.observed_ground_range_m)
        pct.append(spec.ground_range_uncertainty_pct)
    return tuple(names), np.array(values), np.array(pct)


def _columns(obs: flights.Observed, names) -> np.ndarray:
    cols = {"apogee": obs.apogee_m, "flight_time": obs.flight_time_s, "ground_range": obs.ground_range_m}
    return np.stack([cols[n] for n in names], axis=1)


# ---- one assessment ------------------------------------------------------------------------------------------


def _assess_one(earth, spec, mt, az, places) -> Assessment:
    names, obs, pct = _observed(spec)
    sigma = pct / 100.0 * obs
    if isinstance(mt, StagedMissileType):
        vehicle = staged.StagedVehicles.from_types([mt])
        lift = mt.stages[0].thrust_n / G0_M_S2 - (mt.liftoff_mass_kg - mt.payload_mass_kg)
        if lift <= PAYLOAD_MIN_KG:
            raise AssessmentError(f"missile {mt.name!r}: its first stage cannot lift even a {PAYLOAD_MIN_KG:g} kg "
                                  "payload")
        lower = np.array([STAGED_KICK_BOUNDS[0], PAYLOAD_MIN_KG])
        upper = np.array([STAGED_KICK_BOUNDS[1], LIFT_MARGIN * lift])
        starts = [(k, min(f * mt.payload_mass_kg, 0.9 * upper[1])) for k in KICK_STARTS_DEG for f in PAYLOAD_STARTS]

        def model(az_):
            return lambda X: _columns(flights.staged_flights(earth, vehicle, spec.launch, az_, X[:, 0], X[:, 1])[0],
                                      names)

        def impact(a, x):
            return _end(flights.staged_flights(earth, vehicle, spec.launch, a, *x)[0])

        az, outcome, best = _fit_aimed(earth, spec, az, model, impact, obs, sigma, lower, upper, starts, STAGED_STEP,
                                       STAGED_SAME, ("kick", "payload mass"), mt.name)
        kick, payload = best.x
        st_fit = _staged_fit(earth, spec, vehicle, az, names, obs, pct, outcome, best, places)
        _, fl = flights.staged_flights(earth, vehicle, spec.launch, az, kick, payload)
        t_bo, h_bo, d_bo = _burnout_of(earth, spec.launch, fl)
        equivalent = MissileType(f"{mt.name} (burnout equivalent)", t_bo, h_bo, d_bo)
        try:
            bo_fit = _burnout_assessment(earth, spec, equivalent, az, names, obs, sigma, pct, places,
                                         "burnout-equivalent", aim=False)[1]
        except AssessmentError as e:
            raise AssessmentError(f"the staged fit succeeded, but its burnout equivalent failed: {e}") from None
        return Assessment(spec, "staged", az, (st_fit, bo_fit))
    az, bo_fit = _burnout_assessment(earth, spec, mt, az, names, obs, sigma, pct, places, "burnout", aim=True)
    return Assessment(spec, "burnout", az, (bo_fit,))


def _fit_aimed(earth, spec, az, model, impact, obs, sigma, lower, upper, starts, step, same, labels, missile,
               aim=True):
    """The fit at the launch azimuth; for a test with an observed impact point (and `aim`), the azimuth is then
    turned by the angle between the directions to the observed and the model impact, and the fit repeated from
    its minima, until the turn is below AZIMUTH_TOL_DEG (`impact(az, x)`: the impact point of parameters x).
    Returns (azimuth, outcome, best minimum)."""
    outcome = fitting.minimize(model(az), obs, sigma, lower, upper, starts, step, same)
    best = _best(outcome, labels, missile, obs)
    if spec.impact is None or not aim:
        return az, outcome, best
    for _ in range(AZIMUTH_ROUNDS):
        ilat, ilon = impact(az, best.x)
        a_imp, _ = geodesic.inverse(earth, spec.launch.lat_deg, spec.launch.lon_deg, ilat, ilon)
        a_obs, _ = geodesic.inverse(earth, spec.launch.lat_deg, spec.launch.lon_deg, spec.impact.lat_deg,
                                    spec.impact.lon_deg)
        turn = (float(a_obs) - float(a_imp) + 180.0) % 360.0 - 180.0
        if abs(turn) < AZIMUTH_TOL_DEG:
            break
        az = (az + turn) % 360.0
        outcome = fitting.minimize(model(az), obs, sigma, lower, upper, [m.x for m in outcome.minima] or starts,
                                   step, same)
        best = _best(outcome, labels, missile, obs)
    return az, outcome, best


def _best(outcome: fitting.Outcome, labels, missile, obs) -> fitting.Minimum:
    for m in outcome.minima:
        if m.reproduces:
            return m
    c = outcome.closest
    if c is None:
        raise AssessmentError(f"no {labels[0]} and {labels[1]} of missile {missile!r} make a flight that comes "
                              f"down: every one of the {outcome.starts} fits from different starts failed")
    misses = ", ".join(f"{n} by {r:+.1f} sigma" for n, r in zip(("apogee", "flight time", "ground range"),
                                                                c.residuals_sigma))
    raise AssessmentError(f"no {labels[0]} and {labels[1]} of missile {missile!r} reproduce the test within "
                          f"{fitting.REPRODUCE_SIGMAS:g} sigma: the closest fit found ({_shown(labels[0], c.x[0])}, "
                          f"{_shown(labels[1], c.x[1])}) misses the {misses}")


def _shown(label: str, value: float) -> str:
    """A fitted parameter in words: 'burnout speed 5.19 km/s', 'gamma 80.1 deg', 'payload mass 640 kg'."""
    if label == "burnout speed":
        return f"{label} {value / 1e3:.3g} km/s"
    if label == "payload mass":
        return f"{label} {value:.0f} kg"
    return f"{label} {value:.3g} deg"


def _burnout_of(earth: Earth, launch: Point, fl: staged.StagedFlights) -> tuple[float, float, float]:
    """(t_bo s, h_bo m, d_bo m) of a staged flight (one row)."""
    lat, lon, h = frames.ecef_to_geodetic(earth, fl.burnout_r_ecef[:1])
    _, d = geodesic.inverse(earth, launch.lat_deg, launch.lon_deg, float(lat[0]), float(lon[0]))
    return float(fl.burnout_time_s[0]), float(h[0]), float(d)


def _burnout_state(earth: Earth, launch: Point, fl: staged.StagedFlights):
    t, h, d = _burnout_of(earth, launch, fl)
    r, v = fl.burnout_r_ecef[0], fl.burnout_v_ecef[0]
    lat, lon, _ = frames.ecef_to_geodetic(earth, r[None])
    up = frames.enu_basis(lat, lon)[2].reshape(3)
    speed = float(np.linalg.norm(v))
    gamma = math.degrees(math.asin(float(np.dot(v, up)) / speed))
    return (("burn_time", t), ("burnout_altitude", h), ("burnout_range", d), ("burnout_speed", speed),
            ("gamma", gamma))


def _observation_fits(names, obs, pct, model_values) -> tuple[ObservationFit, ...]:
    return tuple(ObservationFit(n, float(o), float(m), float(p)) for n, o, p, m in zip(names, obs, pct, model_values))


def _minima(outcome: fitting.Outcome, pnames) -> tuple[MinimumFound, ...]:
    return tuple(MinimumFound(tuple(zip(pnames, m.x)), m.cost, m.residuals_sigma, m.reproduces)
                 for m in outcome.minima)


def _staged_fit(earth, spec, vehicle, az, names, obs, pct, outcome, best, places) -> FitResult:
    kick, payload = best.x
    pays = (payload, *spec.payload_masses_kg)
    n_p = len(pays)
    az_all = np.r_[np.full(n_p, az), SWEEP_AZIMUTHS_DEG]
    pay_all = np.r_[pays, np.full(SWEEP_AZIMUTHS_DEG.size, payload)]
    k, r, end = flights.staged_max_range(earth, vehicle, spec.launch, az_all, pay_all)
    _, fl = flights.staged_flights(earth, vehicle, spec.launch, az, kick, payload)
    reach = _reach(earth, spec.launch, SWEEP_AZIMUTHS_DEG, r[n_p:], k[n_p:], end, n_p, places)
    return FitResult("staged", (("kick", kick), ("payload_mass", payload)), (), _burnout_state(earth, spec.launch, fl),
                     _observation_fits(names, obs, pct, best.model), _minima(outcome, ("kick", "payload_mass")),
                     float(r[0]), float(k[0]), tuple((float(p), float(x)) for p, x in zip(pays[1:], r[1:n_p])), reach)


def _burnout_assessment(earth, spec, mt: MissileType, az, names, obs, sigma, pct, places, kind, aim):
    t_bo, h_bo, d_bo = mt.burn_time_s, mt.burnout_altitude_m, mt.burnout_range_m

    def model(az_):
        return lambda X: _columns(flights.burnout_flights(earth, spec.launch, az_, t_bo, h_bo, d_bo, X[:, 0],
                                                          X[:, 1]), names)

    def impact(a, x):
        return _end(flights.burnout_flights(earth, spec.launch, a, t_bo, h_bo, d_bo, *x))

    az, outcome, best = _fit_aimed(earth, spec, az, model, impact, obs, sigma, BURNOUT_BOUNDS[0], BURNOUT_BOUNDS[1],
                                   BURNOUT_STARTS, BURNOUT_STEP, BURNOUT_SAME, ("burnout speed", "gamma"), mt.name,
                                   aim)
    v, g = best.x
    az_all = np.r_[az, SWEEP_AZIMUTHS_DEG]
    gam, r, end = flights.burnout_max_range(earth, spec.launch, az_all, t_bo, h_bo, d_bo, v)
    reach = _reach(earth, spec.launch, SWEEP_AZIMUTHS_DEG, r[1:], gam[1:], end, 1, places)
    fixed = (("burn_time", t_bo), ("burnout_altitude", h_bo), ("burnout_range", d_bo))
    burnout = (*fixed, ("burnout_speed", v), ("gamma", g))
    return az, FitResult(kind, (("burnout_speed", v), ("gamma", g)), fixed, burnout,
                         _observation_fits(names, obs, pct, best.model), _minima(outcome, ("burnout_speed", "gamma")),
                         float(r[0]), float(gam[0]), (), reach)


def _end(o: flights.Observed):
    return float(o.impact_lat_deg[0]), float(o.impact_lon_deg[0])


def _reach(earth, launch: Point, az, rng, angle, end: flights.Observed, skip: int, places) -> Reach:
    """The reach along the sweep's azimuths (rows skip.. of `end`) and the places within it."""
    elat, elon = end.impact_lat_deg[skip:], end.impact_lon_deg[skip:]
    return Reach(tuple(float(a) for a in az), tuple(float(x) for x in rng), tuple(float(x) for x in angle),
                 tuple(float(x) for x in elat), tuple(float(x) for x in elon),
                 places_within(earth, launch, az, rng, elat, elon, places))


def reach_along(earth, launch: Point, az, rng, elat, elon, azimuths_deg) -> np.ndarray:
    """The maximum range (m) in the directions `azimuths_deg` from the launch point, interpolated between the
    contour's end points by their directions from the launch point (which differ from their launch azimuths by
    the turn of the rotating Earth and J2; a flight past the antipode keeps its launch azimuth)."""
    az, rng = np.asarray(az, float), np.asarray(rng, float)
    ok = np.isfinite(rng) & np.isfinite(elat)
    if not ok.any():
        return np.full(np.shape(azimuths_deg), np.nan)
    a_end, _ = geodesic.inverse(earth, launch.lat_deg, launch.lon_deg, np.where(ok, elat, 0.0),
                                np.where(ok, elon, 0.0))
    turn = (np.atleast_1d(a_end) - az + 180.0) % 360.0 - 180.0
    direction = np.where(np.abs(turn) <= 90.0, az + turn, az)[ok] % 360.0
    order = np.argsort(direction)
    return np.interp(np.asarray(azimuths_deg, float) % 360.0, direction[order], rng[ok][order], period=360.0)


def places_within(earth, launch: Point, az, rng, elat, elon, places: dict[str, Point]) -> tuple[PlaceInReach, ...]:
    """The places (other than the launch point) whose distance from the launch point is at most the reach in
    their direction, nearest first."""
    if not places:
        return ()
    names = list(places)
    plat = np.array([places[n].lat_deg for n in names])
    plon = np.array([places[n].lon_deg for n in names])
    a, d = geodesic.inverse(earth, np.full(plat.size, launch.lat_deg), np.full(plat.size, launch.lon_deg), plat, plon)
    a, d = np.atleast_1d(a) % 360.0, np.atleast_1d(d)
    r = reach_along(earth, launch, az, rng, elat, elon, a)
    inside = (d > 1000.0) & (d <= r)
    out = [PlaceInReach(n, float(la), float(lo), float(di), float(ai), float(ri))
           for n, la, lo, di, ai, ri, k in zip(names, plat, plon, d, a, r, inside) if k]
    return tuple(sorted(out, key=lambda p: p.distance_m))
