"""The offline demo of `swe-ttc solve --demo --search ...`: the example repository, searched.

The recorded replay of the plain demo is one fixed rollout, so a search over it would show nothing.
With `--search`, the demo instead uses the simulated model of `simulation.model`, given the example
repository's bug as a fixture: at each stage it does the right thing or a plausible wrong one at
random (seeded), so the tree has real branches, failed checks and candidates to choose from.
"""

from __future__ import annotations

from simulation.model import SimParams, register_instance
from simulation.tasks import Edit, Fixture, Localisation

DEMO_SEARCH_MODEL = "demo-search"

_STATS = "inventory/stats.py"
_OLD = "    middle = len(ordered) // 2\n    return ordered[middle]\n"

DEMO_FIXTURE = Fixture(
    name="demo",
    files={},
    issue="",
    hidden_tests={},
    repro_right=(
        "# checks the even-length median from the issue\nfrom inventory import median\n\n"
        "result = median([4, 1, 3, 2])\nprint('median([4, 1, 3, 2]) =', result)\n"
        "print('Issue resolved' if result == 2.5 else 'Issue reproduced')\n"
    ),
    repro_wrong=(
        "from inventory import median\n\nresult = median([7, 1, 3])\nprint('median([7, 1, 3]) =', result)\n"
        "print('Issue resolved' if result == 3 else 'Issue reproduced')\n"
    ),
    repro_misleading=(
        "# checks the median of an even-length list (the lower middle value)\nfrom inventory import median\n\n"
        "result = median([4, 1, 3, 2])\nprint('median([4, 1, 3, 2]) =', result)\n"
        "print('Issue resolved' if result == 2 else 'Issue reproduced')\n"
    ),
    repro_marker="checks the even-length median",
    loc_right=Localisation(
        "def median",
        _STATS,
        "The fault is in inventory/stats.py, function median: for an even count it returns the upper middle value.",
    ),
    loc_wrong=Localisation(
        "def mean",
        _STATS,
        "The fault is in inventory/stats.py, function mean: it divides by the count of values.",
    ),
    loc_marker="function median",
    edits={
        "right": Edit(
            "right",
            _STATS,
            _OLD,
            "    middle = len(ordered) // 2\n    if len(ordered) % 2 == 0:\n"
            "        return (ordered[middle - 1] + ordered[middle]) / 2\n    return ordered[middle]\n",
            marker="% 2 == 0",
        ),
        "incomplete": Edit(
            "incomplete",
            _STATS,
            _OLD,
            "    middle = len(ordered) // 2\n    if len(ordered) == 4:\n"
            "        return (ordered[1] + ordered[2]) / 2\n    return ordered[middle]\n",
            marker="== 4",
        ),
        "regression": Edit(
            "regression",
            _STATS,
            "    return ordered[middle]\n",
            "    return (ordered[middle - 1] + ordered[middle]) / 2\n",
        ),
        "ineffective": Edit(
            "ineffective",
            _STATS,
            "    middle = len(ordered) // 2\n",
            "    middle = (len(ordered) - 1) // 2\n",
        ),
        "decoy": Edit(
            "decoy",
            _STATS,
            "    return sum(values) / len(values)\n",
            "    return sum(values) / max(len(values), 1)\n",
        ),
    },
)

DEMO_PARAMS = SimParams()
DEMO_SOLVE_RATE = 0.6  # a medium instance: about the median of SWE-bench Verified's solve rates


def register_search_demo_model() -> str:
    """Register the simulated demo model; returns its litellm name."""
    return register_instance(DEMO_SEARCH_MODEL, DEMO_FIXTURE, DEMO_PARAMS, DEMO_SOLVE_RATE)
