"""The `shieldlab` command: a thin layer over shieldlab.api (and shieldlab.output for formatting).

Exit status: 0 on success (threats that cannot be computed are reported in the output), 2 on a
malformed scenario or unusable arguments (messages on stderr, nothing written), 130 when interrupted
(Ctrl-C: one line "interrupted" on stderr, worker processes stopped, no partial file).

Start-up (benchmarks/bench_startup.py): the commands are plain functions; the typer application that
parses their arguments is built on first use (`_app()`, or `shieldlab.cli.app`). The most common call,
`shieldlab engage FILE [--json]`, does not need it: typer converts every argument with pydantic, and
importing the two costs ~0.2 s, so `main` calls `engage` directly when the arguments are exactly a file
name and optionally --json (and pauses the garbage collector while it imports, see _import_and_freeze).
Anything else (--help, other options, other commands) goes through typer. Rich, numpy and numba are
imported by the commands that use them.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

if TYPE_CHECKING:  # imported by _app(), which is where the annotations of the commands are evaluated
    import typer

HELP = "Open kinematics of ballistic-missile defence: who can engage which missile, and when."
_stderr_console = None


def _err_console():
    """The rich Console on stderr (created on first use: importing rich costs ~30 ms)."""
    global _stderr_console
    if _stderr_console is None:
        from rich.console import Console

        _stderr_console = Console(stderr=True)
    return _stderr_console


def _fail(messages) -> None:
    from rich.text import Text

    from shieldlab.output.text import printable

    for m in messages:  # literally: messages quote the scenario file (no markup, control characters escaped)
        _err_console().print(Text.assemble(("error:", "red"), " ", printable(m)), soft_wrap=True)
    raise SystemExit(2)


def _announce_compiles() -> None:
    """One line on stderr (never stdout) when this run compiles numba kernels: the first run after installing
    or editing shieldlab takes about a minute more, the first coverage run ~25 s more. Called by each command
    just before it computes."""
    from shieldlab.api import on_first_compile

    on_first_compile(lambda cache_dir: _err_console().print(
        f"compiling kernels, once (they are cached in {cache_dir}); this takes a minute or so",
        style="dim", highlight=False, soft_wrap=True))


def _warn(message: str) -> None:
    from rich.text import Text

    _err_console().print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)


class _Interruptible:
    """`with _Interruptible():` Ctrl-C anywhere inside ends the command with one line "interrupted" on
    stderr and exit status 130, however the KeyboardInterrupt surfaces: as itself, or as the cause or
    context of another exception (a compiled numba function interrupted raises "SystemError: ...
    returned a result with an exception set"), or swallowed by a callback (Python then prints
    "Exception ignored ..." with a traceback: re-raised in the main thread instead)."""

    def __enter__(self):
        self.hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        return self

    def _unraisable(self, unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            import _thread

            _thread.interrupt_main()  # raise it where it can be handled
        else:
            self.hook(unraisable)

    def __exit__(self, kind, value, tb):
        sys.unraisablehook = self.hook
        if value is None or isinstance(value, SystemExit):
            return False
        seen, stack = set(), [value]
        while stack:
            e = stack.pop()
            if e is None or id(e) in seen:
                continue
            seen.add(id(e))
            if isinstance(e, KeyboardInterrupt):
                _err_console().print("interrupted", highlight=False, markup=False)
                raise SystemExit(130) from None
            stack += [e.__cause__, e.__context__]
        return False


def _load(path: Path):
    from shieldlab.api import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as e:
        _fail([str(p) for p in e.problems])
    except OSError as e:
        _fail([f"{path}: cannot read the scenario file: {e.strerror or e}"])


def engage(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the JSON document (and nothing else) on stdout.")] = False,
):
    """Fly every [\\[threats]] entry; report detections and each battery's intercept window."""
    with _Interruptible():
        from shieldlab.api import engage as run

        sc = _load(scenario)
        _announce_compiles()
        doc = run(sc).to_document()
        if as_json:
            sys.stdout.write(json.dumps(doc, indent=1) + "\n")
        else:
            from rich.console import Console

            from shieldlab.output.table import print_engage

            print_engage({**doc, "has_coverage": sc.coverage is not None},
                         Console() if sys.stdout.isatty() else Console(width=110))


def coverage(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file with a \\[coverage] table.")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the per-pair JSON records (and nothing else) on stdout.")] = False,
    out: Annotated[Optional[list[Path]], typer.Option(
        "--out", "-o", help="Write FILE.nc | .csv | .geojson | .png (repeatable). Written atomically.")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", help="Local worker processes (at most one per CPU: more would only compete).")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", help="Run on an existing dask cluster, e.g. tcp://host:8786 (needs shieldlab\\[dask]); "
                            "it must answer within 10 s.")] = None,
    chunk_size: Annotated[Optional[int], typer.Option(
        "--chunk-size", help="Pairs per task (default: chosen from the pair count and the workers).")] = None,
):
    """Fly every (launch, aim) pair of the \\[coverage] table against every battery.

    Without --json or --out, prints a summary per launch point and battery. Pairs are in a stable order:
    launch points in file order, then aim points by latitude, then longitude. The records are the same
    whichever way the run is split (--workers, --scheduler, --chunk-size).
    """
    with _Interruptible():
        _coverage(scenario, as_json, out, workers, scheduler, chunk_size)


def assess(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file with [\\[assessments]] tables.")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the JSON document (and nothing else) on stdout.")] = False,
    out: Annotated[Optional[list[Path]], typer.Option(
        "--out", "-o", help="Write the reach contours to FILE.png (a map) | FILE.geojson (repeatable).")] = None,
):
    """Fit each flight test of [\\[assessments]]; print the missile's maximum range and the places within reach.

    Burnout types fit their burnout speed and flight-path angle; staged types their kick and payload, and a
    burnout type with the fitted flight's burnout for comparison.

    An assessment that cannot be done is reported with its reason; the others go on.
    """
    with _Interruptible():
        from shieldlab.api import OutputError, ScenarioError, require_assessments
        from shieldlab.output.assessmap import check_assess_output

        sc = _load(scenario)
        problems = []
        try:
            require_assessments(sc)
        except ScenarioError as e:
            problems += [str(p) for p in e.problems]
        for p in out or []:
            try:
                check_assess_output(p)
            except OutputError as e:
                problems.append(str(e))
        if problems:
            _fail(problems)
        from shieldlab.api import assess as run, write_assess_output

        _announce_compiles()
        doc = run(sc).to_document()
        if out:
            from rich.text import Text

            from shieldlab.output.text import printable

            for p in out:
                try:
                    write_assess_output(doc, p)
                except OutputError as e:
                    _fail([str(e)])
                _err_console().print(Text(f"wrote {printable(p)}"))
        if as_json:
            sys.stdout.write(json.dumps(doc, indent=1) + "\n")
        elif not out:
            from rich.console import Console

            from shieldlab.output.assesstable import print_assess

            print_assess(doc, Console() if sys.stdout.isatty() else Console(width=120))


def uncertainty(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file with an \\[uncertainty] table.")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the JSON document (and nothing else) on stdout.")] = False,
    out: Annotated[Optional[list[Path]], typer.Option(
        "--out", "-o", help="Write FILE.nc (samples and results) | FILE.png (probability maps of a \\[coverage]) "
                            "(repeatable). Written atomically.")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", help="Local worker processes (at most one per CPU: more would only compete).")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", help="Run on an existing dask cluster, e.g. tcp://host:8786 (needs shieldlab\\[dask]); "
                            "it must answer within 10 s.")] = None,
):
    """Draw the \\[uncertainty] samples and evaluate each: per threat (or \\[coverage] pair) and battery, the
    probability of an intercept, quantiles of the first intercept time and of the margin, and which varied
    input decides it (Sobol indices).

    A scenario with [\\[threats]] is run over them; one with only a \\[coverage], over its pairs. The same
    seed gives the same numbers whichever way the run is spread (--workers, --scheduler).
    """
    with _Interruptible():
        _uncertainty(scenario, as_json, out, workers, scheduler)


def _uncertainty(scenario, as_json, out, workers, scheduler):
    from shieldlab.api import ScenarioError, require_uncertainty

    sc = _load(scenario)
    problems = []
    try:
        require_uncertainty(sc)
    except ScenarioError as e:
        problems += [str(p) for p in e.problems]
    from shieldlab.api import OutputError
    from shieldlab.output.uncertaintyfiles import check_uncertainty_output, evaluations

    for p in out or []:
        try:
            check_uncertainty_output(p, sc)
        except OutputError as e:
            problems.append(str(e))
    problems += _parallel_problems(workers, scheduler)
    if not problems and workers == 1 and not scheduler:
        problems += _oversized(sc, "give --workers N or --scheduler ADDR, or fewer samples")
    if problems:
        _fail(problems)

    from shieldlab.api import keep_heap, uncertainty as run

    _warn_workers(workers)
    keep_heap()
    _announce_compiles()
    result = _run_with_bar(run, sc, evaluations(sc), "evaluations", workers=workers, scheduler=scheduler)
    doc = result.to_document()
    if out:
        from rich.text import Text

        from shieldlab.output.text import printable
        from shieldlab.output.uncertaintyfiles import write_all

        try:
            write_all(result, out)
        except OutputError as e:
            _fail([f"{e} (no output file was changed)"])
        for p in out:
            _err_console().print(Text(f"wrote {printable(p)}"))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    elif not out:
        from rich.console import Console

        from shieldlab.output.uncertaintytable import print_uncertainty

        print_uncertainty(doc, Console() if sys.stdout.isatty() else Console(width=130))


def _coverage(scenario, as_json, out, workers, scheduler, chunk_size):
    from shieldlab.api import ScenarioError, require_coverage

    sc = _load(scenario)
    try:
        require_coverage(sc)
    except ScenarioError as e:
        _fail([str(p) for p in e.problems])
    from shieldlab.api import OutputError
    from shieldlab.output.files import check_output_path

    problems = []
    for p in out or []:
        try:
            check_output_path(p)
        except OutputError as e:
            problems.append(str(e))
    if chunk_size is not None and chunk_size < 1:
        problems.append(f"--chunk-size must be at least 1, got {chunk_size}")
    problems += _parallel_problems(workers, scheduler)
    if problems:
        _fail(problems)

    from shieldlab.api import count_pairs, coverage as run, keep_heap

    _warn_workers(workers)
    keep_heap()  # a one-shot process: large temporaries served from a kept heap (see coverage/run.py)

    _announce_compiles()
    result = _run_with_bar(run, sc, count_pairs(sc), "pairs", workers=workers, scheduler=scheduler,
                           chunk_size=chunk_size)

    if out:  # before the JSON: a failure here leaves stdout empty
        from rich.text import Text

        from shieldlab.api import write_outputs
        from shieldlab.output.text import printable

        try:
            write_outputs(result, out)  # all or nothing
        except OutputError as e:
            _fail([f"{e} (no output file was changed)"])
        for p in out:
            _err_console().print(Text(f"wrote {printable(p)}"))
    if as_json:
        sys.stdout.write(json.dumps(result.to_document(), indent=1) + "\n")
    if not as_json and not out:
        from rich.console import Console

        from shieldlab.output.table import print_coverage

        print_coverage(result.to_dataset(), Console() if sys.stdout.isatty() else Console(width=110))


def _parallel_problems(workers: int, scheduler) -> list[str]:
    """What is wrong with --workers and --scheduler (checked before anything runs)."""
    problems = []
    if workers < 1:
        problems.append(f"--workers must be at least 1, got {workers}")
    if scheduler and workers > 1:
        problems.append("--workers and --scheduler exclude each other (the cluster has its own workers)")
    if scheduler:
        from importlib.util import find_spec

        from shieldlab.api import SchedulerError, check_scheduler_address

        if find_spec("distributed") is None:
            problems.append("--scheduler needs dask.distributed: pip install 'shieldlab[dask]'")
        try:
            check_scheduler_address(scheduler)
        except SchedulerError as e:
            problems.append(str(e))
    return problems


def _warn_workers(workers: int) -> None:
    from shieldlab.api import usable_cpus

    if workers > usable_cpus():
        _warn(f"--workers {workers}: this process may use {usable_cpus()} CPUs; starting at most "
              f"{usable_cpus()} worker processes (more would only compete for them)")


def _oversized(sc, remedy: str) -> list[str]:
    """The problem of an [uncertainty] run too large for one process ([] when it is not)."""
    from shieldlab.output.uncertaintyfiles import MAX_SERIAL_EVALUATIONS, evaluations

    n = evaluations(sc)
    if n <= MAX_SERIAL_EVALUATIONS:
        return []
    u = sc.uncertainty
    return [f"{sc.source or sc.name}: [uncertainty] samples = {u.samples:,} (with sensitivity_samples = "
            f"{u.sensitivity_samples:,}) means {n:,} engagements, more than one process should run "
            f"({MAX_SERIAL_EVALUATIONS:,}): {remedy}"]


def _run_with_bar(run, sc, total: int, label: str, *, scheduler, **kwargs):
    """run(sc, scheduler=..., progress=bar, **kwargs) with a progress bar of `total` `label`; a scheduler that
    cannot be used, or a cluster's failure, is one clear line and exit 2."""
    from shieldlab.api import SchedulerError

    bar = _ProgressBar(total, enabled=_err_console().is_terminal, label=label)
    try:
        return run(sc, scheduler=scheduler, progress=bar, **kwargs)
    except SchedulerError as e:
        _fail([str(e)])
    except Exception as e:  # noqa: BLE001 - a cluster's failures (lost connection, lost workers): one clear line
        if not scheduler:
            raise
        _fail([f"the run on the dask scheduler {scheduler} failed: {type(e).__name__}: {e}"])
    finally:
        bar.stop()


class _ProgressBar:
    """A rich progress bar on stderr, shown only when the run takes longer than a second (and stderr is
    a terminal). Called as `progress(done_pairs, total_pairs)` by coverage.run, possibly from any thread."""

    def __init__(self, total: int, enabled: bool, delay_s: float = 1.0, label: str = "pairs"):
        import threading

        self.total, self.done, self.label = total, 0, label
        self.lock = threading.Lock()
        self.progress = self.task = None
        self.timer = threading.Timer(delay_s, self._show) if enabled else None
        if self.timer:
            self.timer.daemon = True
            self.timer.start()

    def _show(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
            TimeRemainingColumn

        with self.lock:
            if self.timer is None:  # already stopped
                return
            self.progress = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                     TextColumn("eta"), TimeRemainingColumn(), console=_err_console(), transient=True)
            self.task = self.progress.add_task("coverage", total=self.total, completed=self.done)
            self.progress.start()

    def __call__(self, done: int, total: int) -> None:
        with self.lock:
            self.done = done
            if self.progress is not None:
                self.progress.update(self.task, completed=done)

    def stop(self):
        with self.lock:
            timer, self.timer = self.timer, None
            if timer:
                timer.cancel()
            if self.progress is not None:
                self.progress.stop()
                self.progress = None


def version():
    """Print the version and the model constants."""
    from shieldlab.api import __version__, model_constants

    print(f"shieldlab {__version__}")
    for k, v in model_constants().items():
        print(f"  {k} = {v!r}")


def catalog_command(
    kind: Annotated[Optional[str], typer.Argument(help="places | missiles | interceptors | radars")] = None,
    name: Annotated[Optional[str], typer.Argument(help="An entry name: show it in full, with its source.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (and nothing else) on stdout.")] = False,
):
    """The bundled catalog of open-literature entries, usable by name in scenario files.

    No arguments: the kinds, their counts and the catalog version. KIND: one line per entry (key numbers, confidence).
    KIND NAME: the whole entry, with its source and note.
    """
    from rich.console import Console
    from rich.table import Column, Table
    from rich.text import Text

    from shieldlab.api import catalog as cat

    try:
        kind = cat.kind_name(kind) if kind is not None else None
        entry = cat.get(kind, name) if kind is not None and name is not None else None
    except cat.UnknownEntry as e:
        _fail([f"{e} (`shieldlab catalog` lists the kinds, `shieldlab catalog KIND` the entries)"])
    version = cat.catalog_version()
    if as_json:
        if kind is None:
            doc = {"catalog_version": version, "confidence_tags": cat.CONFIDENCE_TAGS,
                   "kinds": {k: {"count": len(cat.entries(k)), "description": cat.description(k)} for k in cat.KINDS}}
        elif entry is None:
            doc = {"catalog_version": version, "kind": kind, "entries": [e.as_dict() for e in cat.entries(kind)]}
        else:
            doc = {"catalog_version": version, **entry.as_dict()}
        sys.stdout.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        return
    console = Console() if sys.stdout.isatty() else Console(width=110)
    if kind is None:
        console.print(Text(f"shieldlab catalog {version}: open-literature entries, usable by name in scenarios"))
        table = Table("kind", "entries", "description")
        for k in cat.KINDS:
            table.add_row(k, str(len(cat.entries(k))), Text(cat.description(k)))
        console.print(table)
        console.print(Text("confidence: " + "; ".join(f"{t} {m}" for t, m in cat.CONFIDENCE_TAGS.items())))
        console.print(Text("more: shieldlab catalog KIND, shieldlab catalog KIND NAME"))
    elif entry is None:
        keys = cat.TABLE_KEYS[kind]
        table = Table(Column("name", no_wrap=True), *(Column(k, min_width=len(k)) for k in keys), "confidence",
                      title=f"{kind} (catalog {version})")
        for e in cat.entries(kind):
            cells = []
            for k in keys:  # a value whose confidence differs from the entry's carries its own tag
                tag = e.confidence_of(k)
                own = k in e.values and k != "site" and tag != e.confidence
                cells.append(Text(cat.value_text(e, k) + (f" ({tag})" if own else "")))
            table.add_row(e.name, *cells, e.confidence + (", assumptions" if e.assumption else ""))
        console.print(table)
        console.print(Text("(TAG) after a value: that value's own confidence; A = assumption of shieldlab's authors"))
        console.print(Text(f"in a scenario: {cat.USAGE[kind].format(name='NAME')}"))
    else:
        console.print(Text.assemble((f"{kind}/{entry.name}", "bold"), f": {entry.label}"))
        table = Table("key", "value", "confidence")
        for key in entry.values:
            if key == "model":
                confidence = "-"
            elif key == "site":  # a catalog place, with its own confidence
                confidence = cat.get("places", entry.values["site"]).confidence + " (places)"
            else:
                confidence = entry.confidence_of(key)
            table.add_row(key, Text(cat.value_text(entry, key)), confidence)
        for key, value in entry.extra.items():
            table.add_row(key, Text(str(value)), Text("(source value)"))
        console.print(table)
        tag = f"{entry.confidence} ({cat.CONFIDENCE_TAGS[entry.confidence]})"
        lines = [("confidence", tag + ("; mostly modelling assumptions" if entry.assumption else "")),
                 ("source", entry.source), *((f"source of {k}", text) for k, text in entry.key_source.items()),
                 ("note", entry.note), ("catalog", version),
                 ("use", cat.USAGE[kind].format(name=entry.name))]
        for label, text in lines:
            console.print(Text.assemble((f"{label}: ", "bold"), text))


def serve(
    scenario: Annotated[Optional[Path], typer.Argument(help="Scenario TOML file to open first (optional).")] = None,
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port to listen on (0: any free port).")] = 8000,
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on: loopback only, unless --allow-remote.")] = "127.0.0.1",
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="Allow a non-loopback --host. The server has no authentication: anyone who "
                               "reaches the port can run computations on this machine.")] = False,
    examples: Annotated[Optional[Path], typer.Option(
        "--examples", help="Directory of example scenarios offered on the page (default: the repository's "
                           "examples/).")] = None,
):
    """Serve an interactive web map (scenario, parameters, tracks, intercepts, coverage) on this machine.

    Needs the optional `web` dependencies (fastapi, uvicorn). Open the printed URL in a browser; Ctrl-C stops.
    """
    import ipaddress
    import socket

    try:
        import uvicorn
        from shieldlab.web.app import create_app, json_h11_protocol
    except ImportError as e:
        _fail([f"`shieldlab serve` needs the web extra (pip install 'shieldlab[web]'): {e}"])
    if scenario is not None:
        _load(scenario)  # a malformed FILE exits 2 here, as with the other commands
    problems = []
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
        if not allow_remote:
            problems.append(f"--host {host!r}: give an IP address (127.0.0.1, ::1) or localhost")
    if not loopback and not allow_remote and not problems:
        problems.append(f"--host {host} is not a loopback address; the server has no authentication, so it "
                        "listens on 127.0.0.1 only unless --allow-remote is given")
    if not 0 <= port <= 65535:
        problems.append(f"--port must be between 0 and 65535, got {port}")
    if examples is not None and not examples.is_dir():
        problems.append(f"--examples {examples}: not a directory")
    if problems:
        _fail(problems)
    ipv6 = ":" in host
    sock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        _fail([f"cannot listen on {host}:{port}: {e.strerror or e}"])
    port = sock.getsockname()[1]
    # the Host header must name this machine's loopback: a web page elsewhere cannot reach the API by
    # DNS rebinding (not checked for IPv6 hosts or with --allow-remote)
    allowed = None if (allow_remote or ipv6) else ["127.0.0.1", "localhost"]
    web_app = create_app(scenario, examples_dir=examples, allowed_hosts=allowed)
    url = f"http://[{host}]:{port}/" if ipv6 else f"http://{host}:{port}/"
    print(f"shieldlab serve: {url}  (Ctrl-C to stop)", flush=True)
    _announce_compiles()
    # h11 with JSON answers to requests that are not valid HTTP (uvicorn's own are text/plain)
    server = uvicorn.Server(uvicorn.Config(web_app, log_level="warning", http=json_h11_protocol() or "auto"))
    server.run(sockets=[sock])


def _number_list(option: str, text: Optional[str], lo: float, hi: float, unit: str, problems: list):
    """A comma-separated list of numbers within [lo, hi], or None when not given (problems appended)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        problems.append(f"{option} {text!r}: expected comma-separated numbers in {unit}, e.g. 3,4,5")
        return None
    if not values or any(not lo <= v <= hi for v in values):
        problems.append(f"{option} {text!r}: expected numbers from {lo:g} to {hi:g} {unit}")
        return None
    return values


def report(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Directory to write index.html and its PNG figures into.")],
    speeds: Annotated[Optional[str], typer.Option(
        "--speeds", help="Burnout speeds of the speed sweep, km/s, comma-separated (default 3,3.5,...,9).")] = None,
    delays: Annotated[Optional[str], typer.Option(
        "--delays",
        help="Launch delays of the delay sweep, s, comma-separated (default 0,30,60,90,120,180,240,300).")] = None,
    no_sensitivity: Annotated[bool, typer.Option(
        "--no-sensitivity", help="Leave out the sensitivity sweeps (faster).")] = False,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", help="Local worker processes for the coverage and uncertainty runs.")] = 1,
):
    """Write a self-contained HTML report: maps, timelines, engage tables, coverage, sensitivity, sources.

    DIR/index.html references only the PNG files written beside it (no network, no scripts).

    Files are written atomically: an error leaves no partial file.
    """
    with _Interruptible():
        _report(scenario, out, speeds, delays, no_sensitivity, workers)


def _report(scenario, out, speeds, delays, no_sensitivity, workers):
    sc = _load(scenario)
    problems: list = []
    speed_list = _number_list("--speeds", speeds, 0.5, 12.0, "km/s", problems)
    delay_list = _number_list("--delays", delays, 0.0, 3600.0, "s", problems)
    if workers < 1:
        problems.append(f"--workers must be at least 1, got {workers}")
    if sc.uncertainty is not None and workers == 1:
        problems += _oversized(sc, "give --workers N, or fewer samples")
    from shieldlab.report import ReportError, build_report, check_out_dir

    try:
        check_out_dir(out)
    except ReportError as e:
        problems.append(str(e))
    if problems:
        _fail(problems)
    from rich.markup import escape

    kw = {"sensitivity": not no_sensitivity, "workers": workers,
          "log": lambda msg: _err_console().print(escape(msg), style="dim", highlight=False)}
    if speed_list is not None:
        kw["speeds_km_s"] = speed_list
    if delay_list is not None:
        kw["delays_s"] = delay_list
    _announce_compiles()
    try:
        path = build_report(sc, out, **kw)
    except ReportError as e:
        _fail([str(e)])
    _err_console().print(f"wrote {escape(str(path))}", highlight=False)


# the commands in the order `shieldlab --help` lists them: (name, function)
COMMANDS = (("engage", engage), ("coverage", coverage), ("assess", assess), ("uncertainty", uncertainty), ("version", version), ("catalog", catalog_command),
            ("serve", serve), ("report", report))
_typer_app = None


def _app():
    """The typer application (built on first use; see the module's docstring)."""
    global _typer_app, typer
    if _typer_app is None:
        import typer  # also the name the commands' annotations refer to

        _typer_app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP)
        for name, function in COMMANDS:
            _typer_app.command(name)(function)
    return _typer_app


def __getattr__(name: str):
    if name == "app":  # `from shieldlab.cli import app`, e.g. for typer.testing.CliRunner
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _direct_engage(args: list[str]) -> tuple[Path, bool] | None:
    """(scenario, as_json) when the arguments are `engage FILE` with or without --json (before or after FILE);
    None for anything else, which typer parses."""
    if not 2 <= len(args) <= 3 or args[0] != "engage" or args[1:].count("--json") != len(args) - 2:
        return None
    (file,) = [a for a in args[1:] if a != "--json"]
    if not file or file.startswith("-"):
        return None
    return Path(file), len(args) == 3


def _import_and_freeze() -> None:
    """Import shieldlab.api with the cyclic garbage collector paused, then take what the imports made out of
    its sight (gc.freeze).

    The imports (numpy, numba, the kernels' modules) and numba's set-up make ~100,000 objects that live as
    long as this one-shot process and hold no garbage; yet each full collection went through all of them
    again, and the interpreter does several while it shuts down: ~0.5 s of a 2 s `engage` (measured with
    benchmarks/bench_startup.py), more than any single import. The collector runs as usual afterwards, for
    the computation (and a first run's compile)."""
    gc.disable()
    try:
        import shieldlab.api  # noqa: F401 -- what engage() imports first
    finally:
        gc.freeze()
        gc.enable()


def main():  # console-script entry point
    direct = _direct_engage(sys.argv[1:])
    if direct is None:
        _app()()
        return
    # Ctrl-C: "interrupted" and exit 130 as in every command; a closed stdout (`| head`) exits 1 quietly, as typer
    try:
        with _Interruptible():
            _import_and_freeze()
        engage(*direct)
        gc.freeze()  # what the run made too: the interpreter's collections at exit then have little to go through
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
