"""Hardened inputs: scenario files, pins and cassettes are read within limits on size, nesting and
aliases; every bad input ends with one line naming the file and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance import safeyaml
from conformance.errors import CassetteError, InputError, ScenarioError
from conformance.recording import recorded_clock
from conformance.safeyaml import CASSETTE_LIMITS, SCENARIO_LIMITS
from conformance.scenarios import CATALOGUE, load_pins, load_scenarios, parse_scenario
from tests.helpers import CASSETTES

CASE = "method-read-needs-a-token"  # a read-only case with one exchange per version
HEAD = textwrap.dedent(
    """\
    id: x
    title: t
    docs: [a.md]
    versions: [beta]
    """
)

# the classic "billion laughs": nine levels of nine aliases stand for 9**9 = 387 million strings
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP = "a: " + "[" * 100_000 + "]" * 100_000 + "\n"  # 200 KB: under the size limit, so nesting is what refuses it
HUGE = "# x\n" * 70_000
TOO_MANY = f"YAML aliases stand for more than {SCENARIO_LIMITS.max_expansions} nodes"
TOO_DEEP = f"YAML nests deeper than {SCENARIO_LIMITS.max_depth} levels; flatten it"
HOSTILE_SCENARIOS = {
    "bomb": (BOMB, f"bomb.yaml:5: {TOO_MANY} in all (here *d)"),
    "deep": (DEEP, f"deep.yaml:1: {TOO_DEEP}"),
    "huge": (
        HUGE,
        f"huge.yaml: is {len(HUGE)} bytes, larger than the {SCENARIO_LIMITS.max_bytes // 1024} KiB an input of this kind may be",
    ),
    "latin1": (
        HEAD.encode() + b"title: caf\xe9\n",
        f"latin1.yaml:{len(HEAD.splitlines()) + 1}: is not UTF-8 text (byte 0xe9 at offset",
    ),
}

# wrapper: run a command, report its exit code, output and peak RSS (this wrapper's only child)
PROBE = (
    "import json, resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=300)\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps({'rc': r.returncode, 'out': r.stdout, 'err': r.stderr, 'mb': kb / 1024}))\n"
)


def probe(*args: str, cwd: Path) -> tuple[int, str, float, float]:
    """Exit code, stdout + stderr, seconds and peak RSS in MB of ``python -m conformance ARGS``."""
    started = time.monotonic()
    wrapper = subprocess.run(
        [sys.executable, "-c", PROBE, sys.executable, "-m", "conformance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    result = json.loads(wrapper.stdout)
    output = result["out"] + result["err"]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    return result["rc"], output, seconds, result["mb"]


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- the limits themselves -------------------------------------------------------------------------


def test_ordinary_anchors_and_aliases_still_load() -> None:
    text = HEAD + textwrap.dedent(
        """\
        steps:
          - request: &get {method: GET, path: /a, headers: &h {accept: application/json, x-a: '1'}}
          - request: {<<: *get, path: /b}
          - request: {method: GET, path: /c, headers: *h}
        """
    )
    scenario, problems = parse_scenario(text, "x.yaml")
    assert problems == [] and scenario is not None
    assert [s.request.path for s in scenario.steps] == ["/a", "/b", "/c"]
    assert scenario.steps[2].request.headers == {"accept": "application/json", "x-a": "1"}
    assert safeyaml.safe_load(text, "x.yaml")["steps"][1]["request"]["method"] == "GET"


def test_the_bomb_is_refused_by_the_expansion_limit_and_nothing_else() -> None:
    with pytest.raises(InputError) as caught:
        safeyaml.check(BOMB, "bomb.yaml")
    assert (caught.value.file, caught.value.line, caught.value.exit_code) == ("bomb.yaml", 5, 2)
    unlimited = safeyaml.Limits(max_bytes=1024, max_depth=64, max_expansions=10**12)
    assert len(BOMB) < unlimited.max_bytes
    safeyaml.check(BOMB, "bomb.yaml", unlimited)  # the scan counts, it never expands: cheap either way


@pytest.mark.parametrize("refused", [False, True])
def test_the_expansion_limit_is_exact(refused: bool) -> None:
    limits = safeyaml.Limits(max_bytes=1 << 20, max_depth=64, max_expansions=100)
    # *a stands for 10 nodes (the list and its 9 items): 10 of them are exactly 100, one more is 110
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [" + ", ".join(["*a"] * 10) + "]\n"
    if refused:
        text += "c: [1, *a]\n"
        with pytest.raises(
            InputError, match=r"^x.yaml:3: YAML aliases stand for more than 100 nodes in all \(here \*a\)"
        ):
            safeyaml.check(text, "x.yaml", limits)
    else:
        safeyaml.check(text, "x.yaml", limits)


@pytest.mark.parametrize(
    ("levels", "refused"), [(SCENARIO_LIMITS.max_depth, False), (SCENARIO_LIMITS.max_depth + 1, True)]
)
def test_the_depth_limit_is_exact(levels: int, refused: bool) -> None:
    text = "[" * levels + "]" * levels
    if refused:
        with pytest.raises(InputError, match=rf"^x.yaml:1: {TOO_DEEP}$"):
            safeyaml.check(text, "x.yaml")
    else:
        expected: Any = []
        for _ in range(levels - 1):
            expected = [expected]
        assert safeyaml.safe_load(text, "x.yaml") == expected


@pytest.mark.parametrize(
    ("size", "refused"), [(SCENARIO_LIMITS.max_bytes, False), (SCENARIO_LIMITS.max_bytes + 1, True)]
)
def test_the_size_limit_is_exact(tmp_path: Path, size: int, refused: bool) -> None:
    file = write(tmp_path / "big.yaml", "#" * (size - 1) + "\n")
    if refused:
        with pytest.raises(InputError, match=rf"^big.yaml: is {size} bytes, larger than the {size // 1024} KiB"):
            safeyaml.read(file, "big.yaml")
        with pytest.raises(InputError, match=rf"^big.yaml: is {size} bytes"):
            safeyaml.check(file.read_text(), "big.yaml")
    else:
        safeyaml.check(safeyaml.read(file, "big.yaml"), "big.yaml")


def test_data_that_contains_itself_is_refused_unless_the_caller_reports_it() -> None:
    with pytest.raises(InputError, match=r"^x.yaml:1: the YAML alias \*a sits inside the node it names"):
        safeyaml.safe_load("tags: &a [*a]\n", "x.yaml")
    safeyaml.check("tags: &a [*a]\n", "x.yaml", allow_recursion=True)
    text = HEAD + textwrap.dedent(
        """\
        tags: &a [*a]
        steps:
          - request: {method: GET, path: /a}
        """
    )
    scenario, problems = parse_scenario(text, "x.yaml")
    assert scenario is None and problems[0] == "x.yaml:5: $.tags[0]: a YAML alias refers to itself"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1, 2\n", "x.yaml:2: not valid YAML: expected ',' or ']', but got '<stream end>'"),  # PyYAML's words
        ("a: 1\nb: \x00\n", "x.yaml:2: not valid YAML: character #x0000 is not allowed in YAML"),
        ("a: 1\n---\nb: 2\n", "x.yaml:2: not valid YAML: expected a single document in the stream, but found another"),
        ("a: *nope\n", "x.yaml:1: not valid YAML: found undefined alias 'nope'"),
    ],
)
def test_yaml_that_is_not_yaml_is_one_line_with_its_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        safeyaml.safe_load(text, "x.yaml")
    assert str(caught.value).startswith(message)


# --- scenario files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE_SCENARIOS))
def test_hostile_scenario_files_are_problems_naming_the_file(tmp_path: Path, name: str) -> None:
    content, message = HOSTILE_SCENARIOS[name]
    write(tmp_path / f"{name}.yaml", content)
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path / f"{name}.yaml"], base=tmp_path)
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith(message)


def test_a_folder_named_like_a_scenario_is_looked_into_not_read(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    shutil.copy(CATALOGUE / f"{CASE}.yaml", tmp_path / "x.yaml" / "inner.yaml")
    assert [s.id for s in load_scenarios([tmp_path], base=tmp_path)] == [CASE]
    write(tmp_path / "x.yaml" / "bad.yaml", DEEP)  # and what it holds is read within the limits
    with pytest.raises(ScenarioError, match=rf"x\.yaml/bad\.yaml:1: {TOO_DEEP}"):
        load_scenarios([tmp_path], base=tmp_path)


@pytest.mark.parametrize("name", ["bomb", "deep"])
def test_run_refuses_a_hostile_scenario_file_with_exit_2_quickly_and_in_bounded_memory(
    tmp_path: Path, name: str
) -> None:
    content, message = HOSTILE_SCENARIOS[name]
    write(tmp_path / f"{name}.yaml", content)
    code, output, seconds, mb = probe(
        "run", "--base-url", "http://127.0.0.1:9", "--scenarios", f"{name}.yaml", cwd=tmp_path
    )
    assert code == 2 and message in output, output[-3000:]
    assert seconds < 60 and mb < 300, (seconds, mb)
    print(f"{name} scenario: exit {code}, {seconds:.1f} s, peak RSS {mb:.0f} MB")


def test_the_rss_probe_sees_a_child_that_does_use_memory(tmp_path: Path) -> None:
    # the control for the bound above: the same probe around a child that holds 400 MB reports it
    wrapper = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            sys.executable,
            "-c",
            "b = bytearray(400 * 1024 * 1024); b[::4096] = b'x' * 102400",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(wrapper.stdout)["mb"] > 300


# --- pins -----------------------------------------------------------------------------------------------


PINS = {
    "bomb": (BOMB.replace("a:", "pins: []\na:", 1), f"bomb.yaml:6: {TOO_MANY}"),
    "deep": ("pins: " + DEEP[3:], f"deep.yaml:1: {TOO_DEEP}"),
    "latin1": (b"pins: []\n# caf\xe9\n", "latin1.yaml:2: is not UTF-8 text"),
    "unhashable": (
        textwrap.dedent(
            """\
            pins:
              - {scenario: [a], step: s, forbid: [200], reason: r}
            """
        ),
        "unhashable.yaml: pins[0]: scenario, step and reason are strings",
    ),
    "not-yaml": ("pins: [\n", "not-yaml.yaml:2: not valid YAML: expected the node content"),
}


@pytest.mark.parametrize("name", sorted(PINS))
def test_hostile_pins_are_problems_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    content, message = PINS[name]
    with pytest.raises(ScenarioError) as caught:
        load_pins(write(tmp_path / f"{name}.yaml", content), load_scenarios([CATALOGUE]))
    assert caught.value.problems[0].startswith(message), caught.value.problems
    assert caught.value.exit_code == 2


def test_good_pins_still_load(tmp_path: Path) -> None:
    pins = textwrap.dedent(
        """\
        pins:
          - &p {scenario: standard-code-rules, step: the expiry moves within the limit, forbid: [201], reason: r}
        """
    )
    assert load_pins(write(tmp_path / "pins.yaml", pins), load_scenarios([CATALOGUE]))[0]["forbid"] == [201]


def test_run_and_pytest_refuse_a_hostile_pins_file(tmp_path: Path) -> None:
    write(tmp_path / "pins.yaml", PINS["bomb"][0])
    code, output, seconds, mb = probe("run", "--base-url", "http://127.0.0.1:9", "--pinned", "pins.yaml", cwd=tmp_path)
    assert code == 2 and f"pins.yaml:6: {TOO_MANY}" in output, output[-3000:]
    assert seconds < 60 and mb < 300, (seconds, mb)
    plugin = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-p", "no:cacheprovider"),
            *("-c", os.devnull, "--rootdir", str(tmp_path)),
            *("--graph-base-url", "http://127.0.0.1:9", "--graph-pinned", "pins.yaml"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = plugin.stdout + plugin.stderr
    assert plugin.returncode == 2, output[-3000:]
    assert "bad pinned alternatives:" in output and "pins.yaml:6: YAML aliases" in output
    assert "Traceback" not in output and "INTERNALERROR" not in output


# --- cassettes ------------------------------------------------------------------------------------------


def _good() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load((CASSETTES / f"{CASE}--beta.yaml").read_text()))


def _edited(change: Any) -> str:
    import yaml

    data = _good()
    change(data)
    return str(yaml.safe_dump(data))


def _set(path: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return change


# name -> (content, or None for a folder / a 100 MB file; what the message says after "is not a readable cassette: ")
HOSTILE_CASSETTES: dict[str, tuple[str | bytes | None, str]] = {
    "interactions-an-int": ("interactions: 5\n", "$.interactions: expected a list, got an integer"),
    "interactions-strings": (
        "interactions: [a, b]\n",
        "$.interactions[0]: expected a mapping with request and response, got a string",
    ),
    "request-a-list": (
        _edited(_set("interactions.0.request", [1, 2])),
        "$.interactions[0].request: expected a mapping",
    ),
    "status-abc": (
        _edited(_set("interactions.0.response.status.code", "abc")),
        "$.interactions[0].response.status.code: expected an HTTP status (100-599), got 'abc'",
    ),
    "body-a-dict": (
        _edited(_set("interactions.0.response.body.string", {"a": 1})),
        "$.interactions[0].response.body.string: expected a string, got a mapping",
    ),
    "bad-clock": (
        _edited(_set("interactions.0.request.headers.x-conformance-clock", ["yesterday"])),
        "the x-conformance-clock header 'yesterday' is not an RFC 3339 date-time",
    ),
    "old-format": ("- request: {}\n", "expected a mapping with 'interactions', got a list"),
    "not-yaml": ("interactions: [\n", "line 2: not valid YAML"),
    "bomb": (
        "interactions: []\n" + BOMB,
        f"line 6: YAML aliases stand for more than {CASSETTE_LIMITS.max_expansions} nodes in all",
    ),
    "deep": (
        "interactions: " + DEEP[3:],
        f"line 1: YAML nests deeper than {CASSETTE_LIMITS.max_depth} levels; flatten it",
    ),
    "latin1": (b"interactions: []\n# caf\xe9\n", "line 2: is not UTF-8 text (byte 0xe9 at offset 22)"),
    "huge": (
        None,
        f"is 100 MiB, larger than the {CASSETTE_LIMITS.max_bytes >> 20} MiB an input of this kind may be; split it",
    ),
    "folder": (None, "is a folder, not a file"),
}


def plant(path: Path, name: str) -> Path:
    """Put the hostile cassette ``name`` at ``path``."""
    content, _ = HOSTILE_CASSETTES[name]
    if name == "folder":
        path.mkdir()
    elif name == "huge":
        with path.open("wb") as handle:
            handle.truncate(100 * 1024 * 1024)  # sparse: refused by its size before a byte is read
    else:
        assert content is not None
        write(path, content)
    return path


@pytest.mark.parametrize("name", sorted(HOSTILE_CASSETTES))
def test_hostile_cassettes_are_one_error_naming_the_file(tmp_path: Path, name: str) -> None:
    cassette = plant(tmp_path / "x--beta.yaml", name)
    with pytest.raises(CassetteError) as caught:
        recorded_clock(cassette) if name == "bad-clock" else safeyaml.load_cassette(cassette, "c/x--beta.yaml")
    display = "c/x--beta.yaml" if name != "bad-clock" else safeyaml.display_path(cassette)
    assert str(caught.value).startswith(f"cassette {display} is not a readable cassette: ")
    assert HOSTILE_CASSETTES[name][1] in str(caught.value)
    assert caught.value.exit_code == 2


def test_good_cassettes_still_load_and_give_their_clock(tmp_path: Path) -> None:
    for path in sorted(CASSETTES.glob("*.yaml")):
        assert safeyaml.load_cassette(path), path
    cassette = write(
        tmp_path / "c.yaml",
        _edited(_set("interactions.0.request.headers.x-conformance-clock", ["2026-01-02T03:04:05Z"])),
    )
    assert recorded_clock(cassette) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert recorded_clock(tmp_path / "absent.yaml") is None
    assert safeyaml.load_cassette(write(tmp_path / "empty.yaml", "")) == []  # vcrpy reads an empty file as empty


def _two_folders(tmp_path: Path) -> tuple[Path, Path]:
    baseline, current = tmp_path / "baseline", tmp_path / "current"
    for folder in (baseline, current):
        folder.mkdir()
        for version in ("beta", "v1.0"):
            shutil.copy(CASSETTES / f"{CASE}--{version}.yaml", folder)
    return baseline, current


def compare(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "compare", "baseline", "current"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compare_of_intact_folders_still_reports_changes_or_none(tmp_path: Path) -> None:
    _, current = _two_folders(tmp_path)
    same = compare(tmp_path)
    assert (same.returncode, same.stdout) == (0, "graph-conformance compare: no change\n")
    changed = current / f"{CASE}--v1.0.yaml"
    changed.write_text(changed.read_text().replace("code: 401", "code: 403", 1))
    different = compare(tmp_path)
    assert different.returncode == 1 and "status 401 -> 403" in different.stdout


COMPARED = [(name, "current") for name in sorted(set(HOSTILE_CASSETTES) - {"bad-clock"})]  # compare reads no clock


@pytest.mark.parametrize(("name", "where"), [*COMPARED, ("bomb", "baseline"), ("folder", "baseline")])
def test_compare_exits_2_on_a_hostile_cassette_naming_it(tmp_path: Path, name: str, where: str) -> None:
    _two_folders(tmp_path)
    target = tmp_path / where / f"{CASE}--beta.yaml"
    target.unlink()
    plant(target, name)
    result = compare(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert result.stderr.startswith(
        f"graph-conformance: error: compare: cassette {where}/{CASE}--beta.yaml is not a readable cassette: "
    ), output
    assert HOSTILE_CASSETTES[name][1] in result.stderr and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in output and "changes" not in output


def test_compare_reads_cassettes_found_in_one_folder_only(tmp_path: Path) -> None:
    _two_folders(tmp_path)
    plant(tmp_path / "current" / "extra--beta.yaml", "bomb")
    result = compare(tmp_path)
    assert result.returncode == 2 and "cassette current/extra--beta.yaml is not a readable cassette" in result.stderr


def test_compare_does_not_crash_on_a_deeply_nested_json_body(tmp_path: Path) -> None:
    _two_folders(tmp_path)
    target = tmp_path / "current" / f"{CASE}--beta.yaml"
    target.write_text(_edited(_set("interactions.0.response.body.string", "[" * 100_000 + "]" * 100_000)))
    result = compare(tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "missing property $.error" in result.stdout  # the body is no longer an object with members


# --- replay -----------------------------------------------------------------------------------------------


def replay(tmp_path: Path, *extra: str, mode: str = "none") -> tuple[int, str, float, float]:
    args = ["run", "--record-mode", mode, "--cassette-dir", "cas", "-k", CASE, *extra]
    if mode == "none":
        args += ["--base-url", "http://127.0.0.1:9"]
    return probe(*args, cwd=tmp_path)


def _cassette_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cas"
    folder.mkdir()
    for version in ("beta", "v1.0"):
        shutil.copy(CASSETTES / f"{CASE}--{version}.yaml", folder)
    return folder


def test_replay_of_intact_cassettes_passes(tmp_path: Path) -> None:
    cases = len(list(_cassette_folder(tmp_path).glob("*.yaml")))
    code, output, _, _ = replay(tmp_path)
    assert code == 0 and f"{cases} passed" in output, output[-3000:]


@pytest.mark.parametrize(
    "name", ["interactions-an-int", "status-abc", "bad-clock", "bomb", "deep", "latin1", "huge", "folder"]
)
def test_replay_of_a_hostile_cassette_errors_in_one_line_and_exits_2(tmp_path: Path, name: str) -> None:
    folder = _cassette_folder(tmp_path)
    (folder / f"{CASE}--beta.yaml").unlink()
    plant(folder / f"{CASE}--beta.yaml", name)
    code, output, seconds, mb = replay(tmp_path)
    prefix = f"cassette cas/{CASE}--beta.yaml is not a readable cassette: "
    assert code == 2, output[-3000:]
    (line,) = [x for x in output.splitlines() if x.startswith(prefix)]  # one line, as the error of its case
    assert HOSTILE_CASSETTES[name][1] in line
    assert f"passed  {CASE}[v1.0]" in output  # the intact cassette beside it still replays
    assert seconds < 60 and mb < 300, (seconds, mb)


def test_a_hostile_cassette_is_not_overwritten_by_once_but_is_by_all(tmp_path: Path) -> None:
    folder = _cassette_folder(tmp_path)
    cassette = folder / f"{CASE}--beta.yaml"
    cassette.unlink()
    plant(cassette, "bomb")
    code, output, _, _ = replay(tmp_path, mode="once")  # against the embedded mock
    assert code == 2 and f"cassette cas/{CASE}--beta.yaml is not a readable cassette" in output, output[-3000:]
    assert cassette.read_text() == HOSTILE_CASSETTES["bomb"][0]
    code, output, _, _ = replay(tmp_path, mode="all")  # recording anew: what was there is never replayed
    assert code == 0, output[-3000:]
    assert safeyaml.load_cassette(cassette)
