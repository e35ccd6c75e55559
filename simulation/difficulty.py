"""How hard a simulated task is: drawn from how many published systems solved real Verified instances.

`swebench_verified_solve_rates.json` holds, for each of the 500 SWE-bench Verified instances, the
fraction of 159 published systems that solved it. A simulated instance draws one of those rates `s`
(from the whole distribution or from one tercile band) and keeps it for every attempt the search
makes: re-sampling a stage is not a fresh chance at an easier task.

From `s` to the model's behaviour. The simulated model's chance that one full rollout (reproduce →
localize → patch) ends with the right patch is ``theta = sigmoid(logit(s) + skill)`` (`skill` = 0: as
good as the average published system on that instance). The three stages share one success rate `q`,
solved for so that a rollout's chance is exactly `theta`:

    P(right localisation) = q * q + (1 - q) * loc_penalty * q        (after a right / a wrong reproduction)
    P(right patch)        = q * (L + (1 - L) * wrong_loc_patch)      (L = P(right localisation))

`loc_penalty` is how much a wrong reproduction hurts localisation, `wrong_loc_patch` the chance, relative
to `q`, that a patch written from a wrong localisation is right anyway.
"""

from __future__ import annotations

import json
import math
import os
import random
from functools import lru_cache
from pathlib import Path

# A copy of the shared data file (per-instance solve rates of 159 published systems on Verified).
DATA_FILE = Path(__file__).resolve().parent / "data" / "swebench_verified_solve_rates.json"
BANDS = ("all", "hard", "medium", "easy")


def data_path() -> Path:
    """The solve-rate file: `SWE_TTC_SOLVE_RATES` if set, else the copy shipped with the simulation."""
    return Path(os.environ.get("SWE_TTC_SOLVE_RATES") or DATA_FILE)


@lru_cache(maxsize=4)
def solve_rates(path: str | None = None) -> tuple[float, ...]:
    """Every instance's solve rate, sorted."""
    data = json.loads(Path(path or data_path()).read_text())
    return tuple(sorted(float(v) for v in data["solve_rate"].values()))


def band(name: str, rates: tuple[float, ...] | None = None) -> tuple[float, ...]:
    """The rates of one band: `all`, or the `hard` / `medium` / `easy` tercile of instances."""
    rates = rates or solve_rates()
    if name not in BANDS:
        raise ValueError(f"unknown difficulty {name!r}: choose from {', '.join(BANDS)}")
    if name == "all":
        return rates
    third = len(rates) // 3
    index = {"hard": 0, "medium": 1, "easy": 2}[name]
    return rates[index * third : (index + 1) * third if index < 2 else len(rates)]


def draw_rate(name: str, key: str, rates: tuple[float, ...] | None = None) -> float:
    """One instance's solve rate, drawn from a band; the same `key` draws the same rate."""
    pool = band(name, rates)
    return random.Random(f"difficulty:{name}:{key}").choice(pool)


def rollout_chance(solve_rate: float, skill: float = 0.0, systems: int = 159) -> float:
    """theta: the chance one rollout solves the instance (see the module docstring)."""
    if skill == 0.0:
        return solve_rate
    floor = 0.5 / systems  # a rate of 0 or 1 has no logit: clip to half a system
    s = min(max(solve_rate, floor), 1 - floor)
    return 1.0 / (1.0 + math.exp(-(math.log(s / (1 - s)) + skill)))


def rollout_success(q: float, loc_penalty: float, wrong_loc_patch: float) -> float:
    """P(right patch) of one rollout when every stage succeeds with `q` (see the module docstring)."""
    located = q * q + (1 - q) * loc_penalty * q
    return q * (located + (1 - located) * wrong_loc_patch)


def stage_rate(theta: float, loc_penalty: float, wrong_loc_patch: float) -> float:
    """The per-stage success rate q whose rollout success is `theta` (bisection; it is monotone in q)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if rollout_success(mid, loc_penalty, wrong_loc_patch) < theta:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
