"""One module per `swe-ttc` subcommand; each exposes a click command."""
