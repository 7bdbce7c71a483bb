"""The command line under hostile or unlucky conditions (issue 11): names that look like markup or hold
control characters, unwritable and partly failing outputs, dask schedulers that are not dask
schedulers, Ctrl-C in the middle of a run, absurd --workers, aim points too close to aim at, and
records that must not depend on how a coverage run is split.

Exit codes (README "Reliability"): 0 success, 2 bad input or arguments (one clear line each, nothing
written), 130 interrupted, never a traceback. Fake servers listen on 127.0.0.1 only, on a free port,
inside the test; every wait is bounded.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from shieldlab.api import coverage, engage, load_scenario, load_scenario_text
from shieldlab.coverage import run as cov
from shieldlab.earth.model import Earth
from shieldlab.output import files
from shieldlab.output.table import print_coverage, print_engage

SRC = Path(__file__).resolve().parents[1] / "src"

HEAD = """
[places]
tabriz = { lat = 38.08, lon = 46.29 }
semnan = { lat = 35.234, lon = 53.921 }
deveselu = { lat = 44.05, lon = 24.41 }
redzikowo = { lat = 54.4728, lon = 17.1231 }
kurecik = { lat = 38.34944, lon = 37.79361, alt = "2085 m" }
athens = { lat = 37.98, lon = 23.73 }
near = { lat = 38.30, lon = 46.60 }

[missiles.irbm]
burn_time = "120 s"
burnout_altitude = "120 km"
burnout_range = "150 km"
burnout_speed = "4.6 km/s"

[interceptors.fast]
burn_time = "60 s"
burnout_speed = "4.5 km/s"
min_altitude = "100 km"
max_altitude = "1200 km"

[[sensors]]
name = "kurecik"
at = "kurecik"
max_range = "1800 km"
min_elevation = "1 deg"
"""

BATTERY = """
[[batteries]]
name = {name}
at = "deveselu"
interceptor = "fast"
launch_delay = "60 s"
"""


def _threat(name: str, to: str = "athens") -> str:
    return f'\n[[threats]]\nname = {json.dumps(name)}\nmissile = "irbm"\nfrom = "tabriz"\nto = "{to}"\n'


# names that rich would take for markup, and invisible characters that reorder or hide text on a terminal
# (the loader refuses control characters in names, not these)
MARKUP_NAMES = ("x[/red]y", "[red]evil[/red]", "rtl\u202eevil\u200bzw")
SHOWN = ("x[/red]y", "[red]evil[/red]", "rtl\\u202eevil\\u200bzw")
SCENARIO_NAME = "[bold]scenario[/bold] \u2066isolate"
# control characters, which the loader refuses in names, still must not reach the terminal from a document
# made otherwise (the Python API): an escape sequence that sets a terminal's title, a bell
CONTROL_NAME, CONTROL_SHOWN = "t\x1b]0;title\x07[/]", "t\\x1b]0;title\\x07[/]"


def _grid(step_deg: float, name: str = "hardening grid") -> str:
    """Two launch points against an aim grid over Europe; some aim points out of the IRBM's reach."""
    return (f'name = "{name}"\n' + HEAD + BATTERY.format(name='"romania"') + "\n[coverage]\n"
            'missile = "irbm"\ntrajectory = "lofted"\nfrom = ["tabriz", "semnan"]\n'
            f'to = {{ lat = [36, 52], lon = [14, 30], step = "{step_deg} deg" }}\n')


@pytest.fixture()
def cli():
    from typer.testing import CliRunner

    from shieldlab.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def _bounded(fn, timeout_s: float):
    """fn() in a daemon thread; fails the test if it has not returned within timeout_s."""
    box: list = []
    t = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    t.start()
    t.join(timeout_s)
    assert box, f"still running after {timeout_s} s"
    return box[0]


# ------------------------------------------------------------------------------------------------ 1, 8: names
@pytest.fixture(scope="module")
def markup_doc():
    text = (f"name = {json.dumps(SCENARIO_NAME)}\n" + HEAD + BATTERY.format(name='"[/]battery"')
            + "".join(_threat(n) for n in MARKUP_NAMES))
    sc = load_scenario_text(text)
    return engage(sc).to_document()


def _render(fn, doc) -> str:
    buf = io.StringIO()
    fn(doc, Console(file=buf, width=110, force_terminal=False))
    return buf.getvalue()


def _raw_controls(text: str) -> list:
    return [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c in "\u202e\u200b\u2066"]


def test_names_are_printed_literally(markup_doc):
    out = _render(print_engage, markup_doc)
    for shown in SHOWN:
        assert shown in out, f"{shown!r} not in the output"
    assert "[bold]scenario[/bold] \\u2066isolate" in out and "[/]battery" in out
    assert _raw_controls(out) == []
    doc = dict(markup_doc, scenario=CONTROL_NAME, threats=[dict(t, name=CONTROL_NAME) for t in markup_doc["threats"]])
    out = _render(print_engage, doc)
    assert out.count(CONTROL_SHOWN) == 1 + 2 * len(MARKUP_NAMES)  # the title, the table, each threat's rule
    assert _raw_controls(out) == []


def test_names_with_markup_through_the_command_line(tmp_path):
    """The real command, stdout a pipe: exit 0, names as written."""
    f = tmp_path / "markup.toml"
    f.write_text('name = "markup"\n' + HEAD + "".join(_threat(n) for n in MARKUP_NAMES))
    r = subprocess.run([sys.executable, "-m", "shieldlab", "engage", str(f)], capture_output=True, text=True,
                       timeout=300, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert r.returncode == 0, r.stderr
    for shown in SHOWN:
        assert shown in r.stdout
    assert _raw_controls(r.stdout) == [] and "Traceback" not in r.stderr


def test_error_messages_quote_the_file_literally(cli, tmp_path):
    r = cli("engage", tmp_path / "[red]no\x1b[2Jfile.toml")  # \x1b[2J: clear the screen
    assert r.exit_code == 2, r.output
    assert "[red]no\\x1b[2Jfile.toml" in r.stderr and "\x1b" not in r.stderr


def test_coverage_summary_prints_names_literally(tmp_path):
    text = ('name = "[i]cov[/i]"\n' + HEAD.replace("semnan =", '"[/]sem\\u202enan" =')
            + BATTERY.format(name='"[red]b[/red]"')
            + '\n[coverage]\nmissile = "irbm"\nfrom = ["[/]sem\\u202enan"]\nto = ["athens"]\n')
    res = coverage(load_scenario_text(text))
    out = _render(print_coverage, res.to_dataset())
    assert "[i]cov[/i]" in out and "[/]sem\\u202enan" in out and "[red]b[/red]" in out
    assert _raw_controls(out) == []


LONG_NAME_CHARS = 200_000
LONG_NAME_TIMEOUT_S = 60.0  # generous: linear printing takes well under a second; quadratic took minutes


def test_a_very_long_name_prints_in_linear_time(markup_doc):
    """A 200,000-character name: printed (cut with "…" in the table columns) without the quadratic cost of
    rich's highlighter regexes on long strings (100,000 characters took 78 s before)."""
    name = "n" * (LONG_NAME_CHARS - 1) + "["
    doc = dict(markup_doc, scenario=name, threats=[dict(t, name=name) for t in markup_doc["threats"]],)
    out = _bounded(lambda: _render(print_engage, doc), LONG_NAME_TIMEOUT_S)
    assert "nnnnnnnnnn…" in out


# ------------------------------------------------------------------------------------------------ 13: too close
def test_an_aim_point_closer_than_the_burnout_range_is_called_too_close():
    from pyproj import Geod

    sc = load_scenario_text('name = "close"\n' + HEAD + _threat("close", to="near") + _threat("far"))
    res = engage(sc)
    err = res.to_document()["threats"][0]["error"]
    _, _, dist_m = Geod(ellps="WGS84").inv(46.29, 38.08, 46.60, 38.30)  # tabriz -> near, inside 150 km
    assert err.startswith(f"the aim point is too close for missile 'irbm': {dist_m / 1000:.0f} km from the "
                          "launch point"), err
    assert "burnout range (150 km)" in err and "misses" not in err
    assert res.to_document()["threats"][1]["error"] is None


# ------------------------------------------------------------------------------------------------ 3, 11: outputs
@pytest.fixture(scope="module")
def places_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("scen") / "places.toml"
    f.write_text('name = "places"\n' + HEAD + BATTERY.format(name='"romania"')
                 + '\n[coverage]\nmissile = "irbm"\nfrom = "tabriz"\nto = ["athens", { lat = 48.0, lon = 20.0 }]\n')
    return f


@pytest.fixture()
def no_computing(monkeypatch):
    """Fails the test if the coverage is computed."""
    import shieldlab.api

    def refuse(*a, **k):
        raise AssertionError("the coverage was computed")

    monkeypatch.setattr(shieldlab.api, "coverage", refuse)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (a directory where no file can be created)")
def test_an_unwritable_output_is_refused_before_computing(cli, places_file, no_computing):
    r = cli("coverage", places_file, "--out", "/proc/x.csv")
    assert r.exit_code == 2, r.output
    assert "/proc/x.csv" in r.stderr and "cannot write" in r.stderr and r.stdout == ""
    assert "Traceback" not in r.output


def test_several_outputs_are_all_or_nothing(places_file, tmp_path, monkeypatch):
    res = coverage(load_scenario(places_file))
    keep = tmp_path / "keep.csv"
    keep.write_text("previous\n")

    def no_space(ds):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("shieldlab.output.covermap.coverage_figure", no_space)
    with pytest.raises(files.OutputError, match="y.png: cannot write it: No space left on device"):
        files.write_all(res, [keep, tmp_path / "new.geojson", tmp_path / "y.png"])
    assert keep.read_text() == "previous\n"
    assert sorted(os.listdir(tmp_path)) == ["keep.csv"]  # no temporary file left, nothing new


def test_several_outputs_through_the_command_line(cli, places_file, tmp_path, monkeypatch):
    keep = tmp_path / "keep.csv"
    keep.write_text("previous\n")
    monkeypatch.setattr("shieldlab.output.covermap.coverage_figure",
                        lambda ds: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    r = cli("coverage", places_file, "--out", keep, "--out", tmp_path / "y.png")
    assert r.exit_code == 2, r.output
    assert "y.png" in r.stderr and "no output file was changed" in r.stderr
    assert keep.read_text() == "previous\n" and sorted(os.listdir(tmp_path)) == ["keep.csv"]


# ------------------------------------------------------------------------------------------------ 4, 6: --scheduler
class _FakeServer:
    """A TCP server on 127.0.0.1 (a free port) that answers every connection with `reply` (b"": says
    nothing) and keeps it open until stopped."""

    def __init__(self, reply: bytes):
        self.reply, self.conns = reply, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.conns.append(c)
            try:
                c.recv(4096) if self.reply.startswith(b"HTTP") else None
                c.sendall(self.reply)
            except OSError:
                pass

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture()
def fake_server(request):
    server = _FakeServer(request.param)
    yield server
    server.close()


SCHEDULER_TIMEOUT_S = 2.0


def _refused_scheduler(cli, places_file, address, why):
    r = _bounded(lambda: cli("coverage", places_file, "--scheduler", address), 30 * SCHEDULER_TIMEOUT_S)
    assert r.exit_code == 2, r.output
    assert f"cannot use the dask scheduler at {address}: {why}" in r.stderr, r.stderr
    assert "Traceback" not in r.output and r.stdout == ""


@pytest.mark.parametrize("fake_server, why", [
    (b"\xff" * 64, "it does not answer as a dask scheduler"),  # a frame count of 2**64-1
    # read as dask frames: "MemoryError: Unable to allocate 3.01 EiB" before
    (b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "it does not answer as a dask scheduler"),
    (b"", "no dask handshake within 2 s"),  # a server that says nothing: waited for ever before
], indirect=["fake_server"])
def test_a_scheduler_address_where_no_dask_scheduler_answers(cli, places_file, fake_server, why, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(cov, "CONNECT_TIMEOUT_S", SCHEDULER_TIMEOUT_S)
    _refused_scheduler(cli, places_file, f"tcp://127.0.0.1:{fake_server.port}", why)


def test_a_scheduler_address_where_a_web_server_answers(cli, places_file, monkeypatch):
    """Python's own HTTP server: no output, still waiting after 200 s before."""
    import http.server

    pytest.importorskip("distributed")
    monkeypatch.setattr(cov, "CONNECT_TIMEOUT_S", SCHEDULER_TIMEOUT_S)

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _refused_scheduler(cli, places_file, f"tcp://127.0.0.1:{server.server_address[1]}",
                           "no dask handshake within 2 s")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("address, why", [
    ("http://127.0.0.1:8786", "http:// is not a dask scheduler scheme"),
    ("tcp://127.0.0.1", "no host and port"),
    ("tcp://127.0.0.1:99999", "no host and port"),
])
def test_a_malformed_scheduler_address_is_refused_before_computing(cli, places_file, address, why, no_computing):
    r = cli("coverage", places_file, "--scheduler", address)
    assert r.exit_code == 2, r.output
    assert why in r.stderr and "tcp://host:8786" in r.stderr and "Traceback" not in r.output


def test_a_scheduler_without_workers(cli, places_file, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(cov, "CONNECT_TIMEOUT_S", SCHEDULER_TIMEOUT_S)
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as c:
        r = _bounded(lambda: cli("coverage", places_file, "--scheduler", c.scheduler_address),
                     30 * SCHEDULER_TIMEOUT_S)
    assert r.exit_code == 2, r.output
    assert "has no workers" in r.stderr and "Traceback" not in r.output


# ------------------------------------------------------------------------------------------------ 9: --workers
class _RecordingPool:
    """Stands in for ProcessPoolExecutor: records max_workers, runs tasks at once in this process (with the
    function and shared arguments a worker's initializer would have installed, coverage.run `_worker_init`)."""

    started: list = []

    def __init__(self, max_workers, initargs=(), **kw):
        _RecordingPool.started.append(max_workers)
        with open(initargs[0], "rb") as f:
            self.task = pickle.load(f)

    def submit(self, fn, *args):
        f = concurrent.futures.Future()
        if fn is cov._worker_call:
            task, shared = self.task
            f.set_result(task(*args, *shared))
        else:
            f.set_result(fn(*args))
        return f

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def test_workers_are_capped_at_the_cpus_with_a_warning(cli, places_file, monkeypatch):
    import shieldlab.api

    monkeypatch.setattr(cov, "ProcessPoolExecutor", _RecordingPool)
    monkeypatch.setattr(cov, "usable_cpus", lambda: 3)
    monkeypatch.setattr(shieldlab.api, "usable_cpus", lambda: 3)
    _RecordingPool.started = []
    r = cli("coverage", places_file, "--workers", "1000", "--chunk-size", "1", "--json")
    assert r.exit_code == 0, r.output
    assert "warning: --workers 1000: this process may use 3 CPUs" in r.stderr
    assert _RecordingPool.started == [2]  # 2 chunks of 1 pair: no more processes than chunks
    assert len(json.loads(r.stdout)["pairs"]) == 2


def test_no_pool_for_a_single_chunk(places_file, monkeypatch):
    monkeypatch.setattr(cov, "ProcessPoolExecutor", _RecordingPool)
    monkeypatch.setattr(cov, "usable_cpus", lambda: 8)
    _RecordingPool.started = []
    coverage(load_scenario(places_file), workers=4)
    assert _RecordingPool.started == []


# ------------------------------------------------------------------------------------------------ 17: splits
@pytest.fixture(scope="module")
def grid_sc():
    """338 pairs: a serial run cuts 43-pair chunks, the warm-start blocks (of levels 16 and 4 pairs apart);
    the parallel run below cuts 22-pair ones (as --workers 4 would), so warm starts crossed different
    boundaries before."""
    sc = load_scenario_text(_grid(1.25))
    assert cov.count_pairs(sc) == 338 and cov.choose_chunk_size(338) == 43 == -(-338 // 8)
    assert cov.choose_chunk_size(338, workers=4) == 22
    return sc


@pytest.fixture(scope="module")
def grid_serial(grid_sc):
    res = coverage(grid_sc)
    err = ~res.flights.valid
    assert 0 < err.sum() < err.size // 2, "some aim points out of reach, so that blocks start in misses"
    return res


def _same(a, b):
    assert np.array_equal(a.pairs, b.pairs)
    assert a.to_document() == b.to_document()  # every per-pair figure, exactly


def test_local_workers_give_the_serial_records(grid_sc, grid_serial):
    _same(grid_serial, coverage(grid_sc, workers=2, chunk_size=22))


@pytest.mark.parametrize("chunk_size", [50, 338])
def test_any_chunk_size_gives_the_serial_records(grid_sc, grid_serial, chunk_size):
    _same(grid_serial, coverage(grid_sc, chunk_size=chunk_size))


def test_a_pair_evaluated_alone_has_its_records_from_the_whole_run(grid_sc, grid_serial):
    """Single pairs and scattered sets, some where the block's Kepler-aimed pairs miss (the window
    widens to the nearest that hit)."""
    full = grid_serial.to_document()["pairs"]
    earth = Earth.from_spec(grid_sc.earth)
    from shieldlab.threat.aim import warm_levels
    from shieldlab.threat.build import aim_pairs, warm_block_size

    every = aim_pairs(grid_sc, earth, np.arange(338))
    tables = cov.build_tables(grid_sc)  # as the run used them (338 >= TABLE_MIN_PAIRS)
    for ks in ([0], [1], [5], [42], [43], [44], [170], [337], [3, 77, 150, 151, 299]):
        part = cov.evaluate_chunk(grid_sc, ks, tables).to_document()["pairs"]
        assert part == [full[k] for k in ks], ks
    size, widened = warm_block_size(338), 0
    for k in range(0, 338, 3):
        start = k // size * size  # the block's first pair; its Kepler-aimed pairs around k:
        anchors = start + np.flatnonzero(warm_levels(min(size, 338 - start)) == 0)
        lo, hi = anchors[anchors <= k].max(), anchors[anchors >= k].min()
        widened += (lo > start and not every.ok[lo]) or (hi < anchors.max() and not every.ok[hi])
        one = aim_pairs(grid_sc, earth, [k])
        assert one.speed_m_s[0] == every.speed_m_s[k] or np.isnan(one.speed_m_s[0]) and np.isnan(every.speed_m_s[k])
        assert one.gamma_rad[0] == every.gamma_rad[k] or np.isnan(one.gamma_rad[0]) and np.isnan(every.gamma_rad[k])
        assert one.ok[0] == every.ok[k]
    assert widened > 10, "the case does not test windows that widen past missing pairs"


def test_a_dask_cluster_gives_the_serial_records(grid_sc, grid_serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        res = coverage(grid_sc, scheduler=cluster.scheduler_address, chunk_size=100)
    _same(grid_serial, res)


# ------------------------------------------------------------------------------------------------ 5: Ctrl-C
INTERRUPT_TIMEOUT_S = 300.0


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_in_a_run_exits_130_with_one_line(tmp_path, workers):
    """The run in a terminal (stderr a pseudo-terminal, so that the progress bar shows once the run is under
    way); then SIGINT to its whole process group, as Ctrl-C sends it. Before: tracebacks from the pool's
    workers, or numba's "SystemError: ... returned a result with an exception set"."""
    import pty

    f = tmp_path / "grid.toml"
    f.write_text(_grid(0.5, "long run"))  # 2,178 pairs: seconds of computing after the bar shows
    out = tmp_path / "never.csv"
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "shieldlab", "coverage", str(f), "--out", str(out),
                          "--workers", str(workers)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, env={**os.environ, "PYTHONPATH": str(SRC)}, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + INTERRUPT_TIMEOUT_S
        while b"pairs" not in seen and time.monotonic() < deadline and p.poll() is None:
            if select.select([master], [], [], 1.0)[0]:
                seen += os.read(master, 65536)
        assert b"pairs" in seen, f"no progress bar: {seen[-2000:]!r}"
        time.sleep(0.5)
        os.killpg(p.pid, signal.SIGINT)
        rc = p.wait(timeout=INTERRUPT_TIMEOUT_S)
        while True:
            try:
                chunk = os.read(master, 65536) if select.select([master], [], [], 1.0)[0] else b""
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert rc == 130, text[-3000:]
    assert "interrupted" in text, text[-3000:]
    assert "Traceback" not in text and "KeyboardInterrupt" not in text and "SystemError" not in text, text[-3000:]
    assert not out.exists() and os.listdir(tmp_path) == ["grid.toml"]
    for _ in range(100):  # the worker processes are gone too
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("processes of the run are still alive")
