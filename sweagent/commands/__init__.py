"""One module per `swe-ttc` subcommand; each exposes a click command.

This layer wires the packages together, so it is where the run config learns the sections other
packages own: `register_config_sections` imports them (each registers its own section).
"""


def register_config_sections() -> None:
    """Make every package-owned config section known to `sweagent.config` (today: `search:`)."""
    import search.config  # noqa: F401  (registers `search`)
