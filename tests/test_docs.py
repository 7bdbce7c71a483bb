"""The documentation: the mkdocs site builds under --strict (a broken link or anchor fails), every link and every
repository path named in README.md and docs/*.md exists, nothing points outside the repository, the built site
loads nothing from the network, and the tutorial notebook runs from a clean state.

The API page (docs/api.md) cannot drift from shieldlab.api: its signatures, result fields and Reason table are
generated from the code (tools/api_reference.py, checked here), every exported name and result member is
described on it, and its examples (```pycon blocks, like the README's) run as doctests with their outputs
checked. The models page names only modules, constants and functions that exist.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from doc_pointers import DEVELOPER_FILE, page_headings, unknown_headings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
MARKDOWN = [ROOT / "README.md", *PAGES]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"
PACKAGE = ROOT / "src" / "shieldlab"
API_PAGE = DOCS / "api.md"
MODELS_PAGE = DOCS / "models.md"
README = ROOT / "README.md"

MKDOCS_TIMEOUT_S = 300
# per notebook cell: the first run in a fresh environment compiles the numba kernels (1-2 minutes here)
NOTEBOOK_CELL_TIMEOUT_S = 600

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<a\s[^>]*href=\"([^\"]+)\"", re.I)
# what the project must never send a reader to: the workplace's shared folder, or a path on one machine
OUTSIDE = re.compile(r"\.\./shared\b|\bshared[/](?:spec|validation|reference|style)\b"
                     r"|(?<![\w.])/(?:work|home|root|tmp)/|file://")
# a repository path in inline code: a/b/c(.ext) or a/b/, no spaces, no placeholders (FILE, DIR, …, *, <, {)
REPO_PATH = re.compile(r"^(?:\./)?[a-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?$")
TOP_DIRS = ("src/", "tests/", "examples/", "benchmarks/", "tools/", "docs/")

try:  # python-markdown comes with mkdocs (the dev extra); without it, anchors into .md files are not checked
    import markdown  # noqa: F401

    HAS_MARKDOWN = True
except ImportError:
    HAS_MARKDOWN = False


def _prose(text: str) -> str:
    """The text without fenced code blocks (links and paths inside them are examples, not references)."""
    return FENCE.sub("", text)


def _links(path: Path) -> list[str]:
    prose = INLINE_CODE.sub("", _prose(path.read_text(encoding="utf-8")))
    return LINK.findall(prose) + HTML_LINK.findall(prose)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _anchors(path: Path) -> set[str]:
    """The heading ids of a Markdown file, as mkdocs (python-markdown's toc) makes them; GitHub's are the same
    for plain headings."""
    from markdown.extensions.toc import slugify

    heads = re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(path.read_text(encoding="utf-8")), re.M)
    return {slugify(re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", h), "-") for h in heads}


# --------------------------------------------------------------------------- links and paths
def test_markdown_files_exist():
    assert (ROOT / "README.md").is_file() and (ROOT / "mkdocs.yml").is_file(), "README.md and mkdocs.yml expected"
    names = {p.name for p in PAGES}
    for page in ("index.md", "models.md", "api.md", "scenario.md", "case-studies.md", "sources.md"):
        assert page in names, f"docs/{page}: expected (it is in the mkdocs nav), found only {sorted(names)}"


@pytest.mark.parametrize("path", MARKDOWN, ids=_rel)
def test_relative_links_point_to_files_in_the_repository(path):
    bad = []
    for target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
            if target.lower().startswith("file:"):
                bad.append(f"{target}: a link to a local file (file://)")
            continue
        file_part = target.split("#", 1)[0].split("?", 1)[0]
        if not file_part:  # an anchor on the same page (docs pages: checked by mkdocs --strict)
            continue
        if file_part.startswith("/"):
            bad.append(f"{target}: an absolute path (links must be relative to the file)")
            continue
        resolved = (path.parent / file_part).resolve()
        if not resolved.is_relative_to(ROOT):
            bad.append(f"{target}: points outside the repository ({resolved})")
        elif not resolved.exists():
            bad.append(f"{target}: no such file or folder in the repository ({_rel(resolved)})")
        elif path.parent == DOCS and not resolved.is_relative_to(DOCS):
            # the site holds only docs/: a link out of it is broken there (name such files in `code`)
            bad.append(f"{target}: a docs page may link only inside docs/ (write `{_rel(resolved)}` as code)")
        elif "#" in target and resolved.suffix == ".md" and HAS_MARKDOWN:
            anchor = target.split("#", 1)[1]
            if anchor not in _anchors(resolved):
                bad.append(f"{target}: {_rel(resolved)} has no heading with the id '{anchor}'")
    assert not bad, f"{_rel(path)}: bad links:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", [*MARKDOWN, ROOT / "mkdocs.yml", NOTEBOOK], ids=_rel)
def test_nothing_points_outside_the_project(path):
    text = path.read_text(encoding="utf-8")
    hits = [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}" for m in OUTSIDE.finditer(text)]
    assert not hits, (f"{_rel(path)} refers to files outside the project (the workplace's shared folder or a "
                      f"machine's absolute path); the project must carry its own docs:\n" + "\n".join(hits))


@pytest.mark.parametrize("path", MARKDOWN, ids=_rel)
def test_repository_paths_named_in_code_exist(path):
    """`tests/test_kepler.py`, `examples/case-studies/`, `interceptor/flyout.py`: a path the docs name as the place
    of something must be there (relative to the repository, or to src/shieldlab/ for module paths)."""
    missing = []
    for span in INLINE_CODE.findall(_prose(path.read_text(encoding="utf-8"))):
        span = span.strip()
        if "/" not in span or not REPO_PATH.match(span) or "://" in span:
            continue
        if not (span.startswith(TOP_DIRS) or span.endswith(".py")):
            continue  # e.g. a unit such as `km/s`
        if not ((ROOT / span).exists() or (PACKAGE / span).exists()):
            missing.append(span)
    assert not missing, f"{_rel(path)} names paths that do not exist: {missing}"


# --------------------------------------------------------------------------- the site
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install -e '.[dev]'")
    pytest.importorskip("material", reason="mkdocs-material is not installed: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
                        "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True, env=env,
                       timeout=MKDOCS_TIMEOUT_S)
    return p, out


def test_site_builds_strictly(site):
    p, out = site
    assert p.returncode == 0, f"mkdocs build --strict failed (exit {p.returncode}):\n{p.stderr[-4000:]}"
    warnings = [line for line in p.stderr.splitlines() if line.startswith("WARNING")]
    assert not warnings, "mkdocs warnings:\n" + "\n".join(warnings)
    for page in PAGES:
        html = out / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert html.is_file(), f"docs/{page.name}: expected the built page {html.relative_to(out)}"


def test_site_loads_nothing_from_the_network(site):
    """Scripts, styles, fonts and images come from the site itself: it renders offline."""
    p, out = site
    assert p.returncode == 0, p.stderr[-2000:]
    remote = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=\"(?:https?:)?//[^\"]*\"", re.I)
    css_remote = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//|url\([\"']?(?:https?:)?//", re.I)
    hits = []
    for f in out.rglob("*"):
        if f.suffix == ".html":
            hits += [f"{f.relative_to(out)}: {m.group(0)[:120]}" for m in remote.finditer(f.read_text("utf-8"))]
        elif f.suffix == ".css":
            hits += [f"{f.relative_to(out)}: {m.group(0)}" for m in css_remote.finditer(f.read_text("utf-8"))]
    assert not hits, "the site fetches from the network:\n" + "\n".join(hits[:20])


def test_models_page_renders_tables_and_equations(site):
    p, out = site
    assert p.returncode == 0, p.stderr[-2000:]
    html = (out / "models" / "index.html").read_text("utf-8")
    assert html.count("<table>") >= 10, f"models page: expected its tables rendered, found {html.count('<table>')}"
    for text in ("1.5 J2 (Re / r)²", "t − t_I0 − T(P(t))", "Bate, Mueller"):
        assert text in html, f"models page: expected {text!r} in the built HTML"


# --------------------------------------------------------------------------- the tutorial notebook
def test_tutorial_notebook_is_committed_clean():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed: pip install -e '.[dev]'")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{_rel(NOTEBOOK)}: cells {dirty} carry outputs; commit the notebook without them"


def test_tutorial_notebook_runs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed: pip install -e '.[dev]'")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -e '.[dev]'")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed: pip install -e '.[dev]'")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    n_cells = len(nb.cells)
    # the kernel must run this interpreter and this shieldlab (jupyter_client starts "python" as sys.executable)
    nb.cells.append(nbformat.v4.new_code_cell("import sys, shieldlab\nprint(sys.executable)\nprint(shieldlab.__file__)"))
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=NOTEBOOK_CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    # the kernel starts in examples/: relative PYTHONPATH entries (PYTHONPATH=src) must not change what it imports
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    client.execute(env=env)  # raises CellExecutionError, with the cell and its traceback, if any cell fails

    import shieldlab

    probe = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
    assert probe == [sys.executable, shieldlab.__file__], (
        f"the notebook kernel ran {probe}, expected this interpreter and package {[sys.executable, shieldlab.__file__]}")
    outputs = [o for c in nb.cells[:n_cells] if c.cell_type == "code" for o in c.outputs]
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    # what the tutorial says it shows (numbers as of the bundled example; see the notebook's prose)
    assert "timeline" in text and "ok" in text, "expected engagements with reasons 'timeline' and 'ok' in the outputs"
    assert any("image/png" in o.get("data", {}) for o in outputs), "expected the sweep's matplotlib figure"
    assert "xarray.Dataset" in text, "expected the coverage Dataset in the outputs"


# --------------------------------------------------------------------------- the API page
GENERATED = re.compile(r"<!-- generated by tools/api_reference\.py: (?P<name>[^>]+?) -->\n(?P<body>.*?)"
                       r"<!-- end of generated block -->", re.S)
PYCON = re.compile(r"^```pycon\n(.*?)^```", re.S | re.M)
# members of the result classes that are not for users: constructors from the engine's internal objects
ENGINE_MEMBERS = {"of"}


def _api_tool():
    spec = importlib.util.spec_from_file_location("api_reference", ROOT / "tools" / "api_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hand_written(text: str) -> str:
    """The page without its generated blocks."""
    return GENERATED.sub("", text)


def _mentioned(name: str, text: str) -> bool:
    """`name` appears in inline code: `name`, `name(…)`, `x.name`, `Class.name(…)`."""
    return re.search(rf"`[^`\n]*(?<![\w.]){re.escape(name)}\b[^`\n]*`|`[^`\n]*\.{re.escape(name)}\b[^`\n]*`",
                     text) is not None


def test_api_page_generated_blocks_are_up_to_date():
    tool = _api_tool()
    _, changed = tool.update(API_PAGE.read_text(encoding="utf-8"))
    assert changed == [], f"docs/api.md is out of date ({changed}): run python tools/api_reference.py"


def test_api_reference_tool_sees_drift():
    tool = _api_tool()
    text = API_PAGE.read_text(encoding="utf-8")
    stale = text.replace("engage(scenario: Scenario, *, pairs=None)", "engage(scenario: Scenario)", 1)
    assert stale != text, "expected engage's signature on the page"
    new, changed = tool.update(stale)
    assert new == text and any(c.startswith("signatures") and "engage" in c.split() for c in changed), changed
    with pytest.raises(ValueError, match="unknown generated block"):
        tool.update("<!-- generated by tools/api_reference.py: nothing -->\n<!-- end of generated block -->")
    with pytest.raises(ValueError, match="not in shieldlab.api"):
        tool.block("signatures run_coverage")


def test_every_api_name_is_documented():
    """Every name of shieldlab.api.__all__ is described in the page's own words, and every function and
    dataclass has its generated signature."""
    import shieldlab.api as api

    text = API_PAGE.read_text(encoding="utf-8")
    prose = _hand_written(text)
    undocumented = [n for n in api.__all__ if not _mentioned(n, prose)]
    assert not undocumented, f"docs/api.md does not describe: {undocumented}"
    # a dataclass's signature is its fields; a result bundle's fields are its generated table
    signed = {n for m in GENERATED.finditer(text) if m.group("name").split()[0] in ("signatures", "arrays")
              for n in m.group("name").split()[1:] if "." not in n}
    needs = [n for n in api.__all__ if inspect.isfunction(getattr(api, n))
             or (inspect.isclass(getattr(api, n)) and dataclasses.is_dataclass(getattr(api, n)))]
    unsigned = [n for n in needs if n not in signed]
    assert not unsigned, f"docs/api.md has no generated signature for: {unsigned}"


def test_every_result_member_is_documented():
    """Fields, properties and methods of the result types are all on the page (the engine's constructors `of`
    excepted)."""
    import shieldlab.api as api

    prose = _hand_written(API_PAGE.read_text(encoding="utf-8"))
    full = API_PAGE.read_text(encoding="utf-8")
    missing = []
    for name in ("EngageResult", "CoverageResult", "Flights", "Detections", "Engagements", "Intercepts"):
        cls = getattr(api, name)
        members = {f.name for f in dataclasses.fields(cls)}
        for klass in cls.__mro__:
            if klass.__module__.startswith("shieldlab"):
                members |= {m for m in vars(klass) if not m.startswith("_")}
        for m in sorted(members - ENGINE_MEMBERS):
            # a field in a generated table counts; a method or property must be described by hand
            where = full if m in {f.name for f in dataclasses.fields(cls)} else prose
            if not _mentioned(m, where):
                missing.append(f"{name}.{m}")
    for m in ("code", "label", "explanation", "from_code"):
        if not _mentioned(m, prose):
            missing.append(f"Reason.{m}")
    assert not missing, f"docs/api.md does not mention: {missing}"


def _page_reason_rows(text: str) -> list[tuple[str, str, int, str, str]]:
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\| `Reason\.(\w+)` \| `\"([^\"]+)\"` \| (-?\d+) \| ([^|]*) \| ([^|]*) \|$", line)
        if m:
            rows.append((m[1], m[2], int(m[3]), m[4].strip(), m[5].strip()))
    return rows


def test_api_page_reason_table_matches_the_enum():
    from shieldlab.api import NO_CODE, Reason

    text = API_PAGE.read_text(encoding="utf-8")
    assert _page_reason_rows(text) == [(r.name, r.value, r.code, r.label, r.explanation) for r in Reason], (
        "docs/api.md: the Reason table differs from shieldlab.api.Reason (run python tools/api_reference.py)")
    none_row = re.search(r"^\| \(none\) \| `null` \| (-?\d+) \(`NO_CODE`\) \|", text, re.M)
    assert none_row and int(none_row[1]) == NO_CODE, "docs/api.md: expected the NO_CODE row of the Reason table"


def test_reason_tables_agree_everywhere():
    """The models page defines the reasons in the order of their codes; the README lists the same strings."""
    from shieldlab.api import Reason

    models = re.findall(r"^\| `([a-z-]+)` \| ", MODELS_PAGE.read_text(encoding="utf-8"), re.M)
    values = [r.value for r in Reason]
    assert [m for m in models if m in values] == values and set(values) <= set(models), (
        f"docs/models.md: its reason table {models} should list {values} in this order")
    readme = README.read_text(encoding="utf-8")
    listed = re.search(r"`reason` ∈ ([a-z /-]+)", readme)
    assert listed and [w.strip() for w in listed[1].split("/")] == values, "README.md: the reasons after `reason` ∈"


def _run_pycon_examples(page: Path, label: str, tmp_path: Path, monkeypatch) -> dict:
    """Run the ```pycon blocks of a page as one doctest (names carry over from block to block), from a
    folder that sees the repository's examples/ and tests/ (the examples write files into the current
    folder). Returns the examples' globals."""
    for name in ("examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    # the blocks at their own line numbers, everything else blank: failures name the page's lines
    keep = [""] * (text.count("\n") + 1)
    for m in PYCON.finditer(text):
        first = text.count("\n", 0, m.start(1))
        for k, line in enumerate(m.group(1).splitlines()):
            keep[first + k] = line
    source = "\n".join(keep)
    assert ">>>" in source, f"{label}: no ```pycon examples found"
    test = doctest.DocTestParser().get_doctest(source, {"__name__": "__docs__"}, label, label, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    assert runner.failures == 0, f"{label}: examples fail:\n" + "".join(report)
    return test.globs


def test_api_page_examples_run(tmp_path, monkeypatch):
    globs = _run_pycon_examples(API_PAGE, "docs/api.md", tmp_path, monkeypatch)
    assert (tmp_path / "us-east.nc").is_file() and (tmp_path / "us-east.csv").is_file()
    assert not (tmp_path / "us-east.txt").exists()
    # the page's table of Dataset variables is the Dataset's
    text = API_PAGE.read_text(encoding="utf-8")
    table = text.split("| variable | dims | meaning |", 1)[1].split("\n\n", 1)[0]
    documented = {v for row in table.splitlines()[2:] for v in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert documented == set(globs["ds"].data_vars), (
        f"docs/api.md: Dataset variables documented {sorted(documented)}, the Dataset has "
        f"{sorted(globs['ds'].data_vars)}")


def test_home_page_examples_run(tmp_path, monkeypatch):
    _run_pycon_examples(DOCS / "index.md", "docs/index.md", tmp_path, monkeypatch)
    assert (tmp_path / "us-east.nc").is_file()


def test_readme_python_api_examples_run(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    start = text.index("## Python API")
    end = text.find("\n## ", start + 1)
    assert "```pycon" in text[start:end], "README.md: expected the Python API section's examples as ```pycon blocks"
    # the section alone, at its own line numbers in README.md
    page = tmp_path / "README.md"
    page.write_text("\n" * text.count("\n", 0, start) + text[start:end], encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    _run_pycon_examples(page, "README.md", work, monkeypatch)


# --------------------------------------------------------------------------- the models page names what exists
CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")  # MAX_FLIGHT_S, BISECTIONS
IDENTIFIER = re.compile(r"^_?[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
# "20 000 s (`MAX_FLIGHT_S`)", "**0.01 s** (`TIME_TOL_S`)", "1 024 pairs (`DEFAULT_CHUNK`)": the value stated
STATED = re.compile(r"(\d+(?: \d{3})*(?:\.\d+)?)\s*([A-Za-z]+)?\**\s*\(`([A-Z][A-Z0-9_]+)`\)")
UNIT_FACTOR = {"km": 1e3}  # other words (s, m, pairs, iterations, times) count 1


def _module_constants() -> dict[str, list[tuple[str, object]]]:
    """Module-level UPPER_CASE names of the package: name -> [(module, value), ...]."""
    import ast
    import importlib

    out: dict[str, list[tuple[str, object]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        targets = [t for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                   for t in (node.targets if isinstance(node, ast.Assign) else [node.target])]
        names = [t.id for t in targets if isinstance(t, ast.Name) and CONSTANT.match(t.id)]
        if not names:
            continue
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = importlib.import_module(".".join(p for p in rel.parts if p != "__init__"))
        for n in names:
            out.setdefault(n, []).append((module.__name__, getattr(module, n)))
    return out


def _code_spans(path: Path) -> list[str]:
    return [s.strip() for s in INLINE_CODE.findall(_prose(path.read_text(encoding="utf-8")))]


def test_models_page_constants_exist_with_the_stated_values():
    constants = _module_constants()
    text = " ".join(_prose(MODELS_PAGE.read_text(encoding="utf-8")).split())
    cited = {s for s in _code_spans(MODELS_PAGE) if CONSTANT.match(s)}
    assert cited, "docs/models.md: expected constants of the code named on the page"
    missing = sorted(cited - set(constants))
    assert not missing, f"docs/models.md names constants that no module of src/shieldlab defines: {missing}"
    wrong = []
    for number, unit, name in STATED.findall(text):
        value = float(number.replace(" ", "")) * UNIT_FACTOR.get(unit or "", 1.0)
        if not any(isinstance(v, (int, float)) and abs(v - value) <= 1e-9 * max(1.0, abs(value))
                   for _, v in constants.get(name, [])):
            wrong.append(f"{number} {unit} ({name}): the code has {constants.get(name)}")
    assert not wrong, "docs/models.md states values its constants do not have:\n" + "\n".join(wrong)
    stated = {name for _, _, name in STATED.findall(text)}
    assert len(stated) >= 10 and "TIME_TOL_S" in stated, f"expected the page's constants with values, found {stated}"


def test_models_page_functions_and_names_exist():
    """A snake_case name in code on the page (`solve_warm`, `_may_see_powered`, `time_s`, `max_flight_time`) is
    a function, field or key of the code: it occurs in src/shieldlab (or, like scipy's `solve_ivp`, in the tests
    that use it)."""
    package = "\n".join(p.read_text("utf-8") for p in PACKAGE.rglob("*.py"))
    source = package + "\n".join(p.read_text("utf-8") for p in (ROOT / "tests").glob("*.py") if p.name != "test_docs.py")
    words = set(re.findall(r"\b_?[a-z][a-z0-9_]*\b", source))
    named = sorted({s for s in _code_spans(MODELS_PAGE) if IDENTIFIER.match(s)})
    assert "solve_warm" in named and "_may_see_powered" in named, named
    missing = [s for s in named if s not in words]
    assert not missing, f"docs/models.md names what the code does not have: {missing}"
    functions = set(re.findall(r"^\s*def (\w+)", package, re.M))
    for name in ("solve_warm", "_may_see_powered"):
        assert name in functions, f"docs/models.md: {name} is named as a function; no such def in src/shieldlab"


# --------------------------------------------------------------------------- the README's layout
def _layout() -> list[tuple[Path, str]]:
    """(folder, text) rows of the README's Layout block: the folder each row is about and its text."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"^## Layout\n+```\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md: expected a ## Layout section with a fenced block"
    rows: list[tuple[Path, str]] = []
    for line in block[1].splitlines():
        entry = re.match(r"^( {0,2})(\S+)", line)
        if entry is None:  # a continuation line: same folder
            folder, prev = rows[-1]
            rows[-1] = (folder, prev + " " + line.strip())
            continue
        indent, name = entry[1], entry[2]
        if indent == "":
            base = ROOT / name if name.endswith("/") else ROOT
        else:
            base = PACKAGE / name if name.endswith("/") else PACKAGE
        rows.append((base, line.strip()))
    return rows


def test_readme_layout_names_what_exists_and_every_module():
    rows = _layout()
    missing, named = [], set()
    token = re.compile(r"(?<![\w./-])([\w-]+(?:/[\w.-]+)*(?:\.(?:py|ipynb|md|yml)|/))(?![\w/])")
    for base, text in rows:
        for t in token.findall(text):
            found = [p for p in (base / t, ROOT / t, PACKAGE / t) if p.exists()]
            if not found:
                missing.append(f"{t} (in the row {text[:40]!r}…)")
            named |= {p.resolve() for p in found}
    assert not missing, "README.md Layout names what does not exist:\n" + "\n".join(missing)
    modules = [p for p in PACKAGE.rglob("*.py") if not p.name.startswith("__")]
    unlisted = sorted(str(p.relative_to(PACKAGE)) for p in modules if p.resolve() not in named)
    assert not unlisted, f"README.md Layout does not list these modules of src/shieldlab: {unlisted}"
    for top in ("src/shieldlab/", "tests/", "benchmarks/", "examples/", "docs/", "tools/"):
        assert any(text.startswith(top) for _, text in rows), f"README.md Layout: expected a row for {top}"


# --------------------------------------------------------------------------- the code cites the project's own docs
# The developers' working files (their model and scenario specifications, their literature notes and their shared
# validation folder) are not shipped. The code, the tests, the tools and the benchmarks cite docs/models.md,
# docs/scenario.md and docs/sources.md by heading instead, and the copied vectors as tests/vectors/. The pattern,
# DEVELOPER_FILE of tests/doc_pointers.py, is written so that it does not match its own source.
CODE_DIRS = ("src", "tests", "tools", "benchmarks")
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".numba_cache"}
# "docs/models.md, Track formation": a page and one of its headings (a pointer may wrap onto the next comment or
# docstring line); headings begin with a capital or a backtick
CODE_POINTER = re.compile(r"docs/(models|sources|scenario)\.md(?:,\s+|,?\s*[\"'\u201c])(?=[A-Z`])")  # or quoted
# the checks' own test data: pointers to headings that do not exist, on purpose
POINTER_TEST_DATA = {"tests/test_catalog.py", "tests/test_docs.py"}


def _code_files() -> list[Path]:
    files = []
    for top in CODE_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT)
            if path.is_file() and not SKIPPED_DIRS.intersection(rel.parts) \
                    and not any(part.endswith(".egg-info") for part in rel.parts):
                files.append(path)
    return files


def test_code_does_not_point_to_the_developers_files():
    files = _code_files()
    assert len(files) > 50 and ROOT / "tests" / "test_docs.py" in files, len(files)
    hits = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        hits += [f"{_rel(path)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
                 for m in DEVELOPER_FILE.finditer(text)]
    assert not hits, ("these files point readers to the developers' files, which users do not receive; cite "
                      "docs/models.md, docs/scenario.md or docs/sources.md by heading (or tests/vectors/) "
                      "instead:\n" + "\n".join(hits))


def _bad_code_pointers(text: str, heads: dict[str, list[str]]) -> list[str]:
    """The "docs/PAGE.md, HEADING" pointers of a source text whose HEADING is not a heading of the page (the text
    read with its line breaks, indentation and comment marks joined into single spaces)."""
    return unknown_headings(re.sub(r"\s*\n\s*(?:#+\s*)?", " ", text), CODE_POINTER, heads, shown=50)


def test_code_pointers_name_headings_that_exist():
    heads = {page: page_headings(page) for page in ("models", "sources", "scenario")}
    sources = [path for path in _code_files() if path.suffix == ".py" and _rel(path) not in POINTER_TEST_DATA]
    bad = [f"{_rel(path)}: {b}" for path in sources
           for b in _bad_code_pointers(path.read_text(encoding="utf-8"), heads)]
    assert not bad, "pointers to headings that do not exist:\n" + "\n".join(bad)


def test_developer_file_and_pointer_checks_find_what_they_must():
    names = ["MODELS", "SCENARIO", "LITERATURE", "literature"]
    for name in names:
        assert DEVELOPER_FILE.search(f"see {name}" + ".md 3.1"), name
    assert DEVELOPER_FILE.search("(shared" + "/validation/README.md)")
    assert DEVELOPER_FILE.search(".." + "/shared" + "/spec")
    assert not DEVELOPER_FILE.search("docs/models.md, Radars; docs/scenario.md; multiprocessing.shared_memory")
    heads = {page: page_headings(page) for page in ("models", "sources", "scenario")}
    assert _bad_code_pointers("(docs/models.md, Sensitivity:\n    # range against a cross-section)", heads) == []
    assert _bad_code_pointers("docs/scenario.md, `shieldlab engage FILE --json`: stdout", heads) == []
    assert len(_bad_code_pointers("docs/models.md, The threat missile; docs/sources.md, Radar", heads)) == 2
    assert _bad_code_pointers('docs/models.md "The latest launch"', heads) == []
    assert len(_bad_code_pointers('docs/models.md "Latest launch and margin"', heads)) == 1
