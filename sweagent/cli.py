"""The `swe-ttc` command line: the one place that wires sweagent, verifiers, search and synth.

Subcommands live in `sweagent/commands/` (one module each) and are imported only when used, so
`swe-ttc --help` stays fast. A `UserError` anywhere becomes one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import importlib
import sys

import click

from sweagent.errors import UserError


class LazyGroup(click.Group):
    """A click group whose subcommands are `module:attribute` strings loaded on first use."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name][0].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


COMMANDS: dict[str, tuple[str, str]] = {
    "solve": (
        "sweagent.commands.solve:solve",
        "Solve one issue in a sandbox and write the patch and trajectory.",
    ),
    "batch": ("sweagent.commands.batch:batch", "Run a SWE-bench-format dataset and write preds.json."),
    "eval": ("sweagent.commands.evaluate:evaluate", "Grade predictions with SWE-bench's parsers and rules."),
    "select": (
        "sweagent.commands.select:select_command",
        "Pick one patch per instance from several systems' predictions.",
    ),
    "localize": ("sweagent.commands.localize:localize", "Rank the files and functions an issue is about."),
    "inspect": (
        "sweagent.commands.inspect:inspect",
        "Render a run folder as one HTML page (or serve it live).",
    ),
    "synth": ("synth.cli:synth", "Mine tasks, sample rollouts, filter and export training data."),
    "bench": ("sweagent.commands.bench:bench", "Benchmarks that print JSON (sandbox, agent, ...)."),
    "image": ("sweagent.commands.image:image", "Build the local base image sandboxes start from."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="swe-ttc")
def cli() -> None:
    """swe-ttc: a software-engineering agent that gets better by spending test-time compute."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, turning UserError into one clear line."""
    from sweagent.commands import register_config_sections

    register_config_sections()
    try:
        cli.main(args=argv, prog_name="swe-ttc", standalone_mode=False)
    except UserError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:  # click's form of Ctrl-C
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
