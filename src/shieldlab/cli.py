"""The `shieldlab` command: a thin layer over shieldlab.api.

Exit status: 0 on success (threats that cannot be computed are reported in the output), 2 on a
malformed scenario or unusable arguments (messages on stderr, nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Open kinematics of ballistic-missile defence: who can engage which missile, and when.")
err_console = Console(stderr=True)


def _fail(messages) -> None:
    for m in messages:
        err_console.print(f"[red]error:[/red] {escape(str(m))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _load(path: Path):
    from shieldlab.api import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as e:
        _fail([str(p) for p in e.problems])
    except OSError as e:
        _fail([f"{path}: cannot read the scenario file: {e.strerror or e}"])


@app.command()
def engage(
    scenario: Path = typer.Argument(..., help="Scenario TOML file."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON document (and nothing else) on stdout."),
):
    """Fly every [[threats]] entry; report detections and each battery's intercept window."""
    from shieldlab.api import engage as run, engage_document

    sc = _load(scenario)
    doc = engage_document(run(sc))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    else:
        from shieldlab.output.table import print_engage

        print_engage(doc, Console() if sys.stdout.isatty() else Console(width=110))


@app.command()
def version():
    """Print the version and the model constants."""
    from shieldlab import __version__, constants as C

    print(f"shieldlab {__version__}")
    for k in ("WGS84_A_M", "WGS84_F", "SPHERE_R_M", "GM_M3_S2", "OMEGA_RAD_S", "J2"):
        print(f"  {k} = {getattr(C, k)!r}")


def main():  # console-script entry point
    app()


if __name__ == "__main__":
    main()
