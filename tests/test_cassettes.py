"""The committed cassettes: the whole catalogue recorded against the reference mock, replayed offline."""

from __future__ import annotations

import re

from conformance.scenarios import CATALOGUE, load_scenarios
from tests.helpers import CASSETTES, REPLAY_CATALOGUE, graph_conformance

# the patterns the project's before-stop hook uses to spot a secret in a cassette
SECRET = re.compile(
    r'Bearer +[A-Za-z0-9._-]{16,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|client_secret=|"code": *"[0-9]{4,}"'
)


def test_there_is_one_cassette_per_catalogue_case_and_no_other() -> None:
    cases = {f"{s.id}--{v}.yaml" for s in load_scenarios([CATALOGUE]) for v in s.versions}
    assert {p.name for p in CASSETTES.glob("*.yaml")} == cases


def test_the_committed_cassettes_hold_no_secret() -> None:
    leaks = [p.name for p in CASSETTES.glob("*.yaml") if SECRET.search(p.read_text())]
    assert leaks == []
    pins = [p.name for p in CASSETTES.glob("*.yaml") if re.search(r"58219374|38475912", p.read_text())]
    assert pins == []  # the catalogue's own PINs are scrubbed from request bodies too


def test_the_catalogue_replays_offline_from_the_committed_cassettes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the user-facing command: with --record-mode none it also blocks the network
    result = graph_conformance(*REPLAY_CATALOGUE, cwd=tmp_path, timeout=300)
    scenarios = load_scenarios([CATALOGUE])
    cases = sum(len(s.versions) for s in scenarios)
    # recorded against an empty mock: the reads of an existing method found none, and say so
    reads_of_existing = sum(
        len(s.versions) for s in scenarios if not s.writes and any(step.not_applicable for step in s.steps)
    )
    assert result.returncode == 0, result.stdout[-3000:]
    counts = f"{cases - reads_of_existing} passed, 0 failed, 0 errors, {reads_of_existing} skipped, "
    assert f"graph-conformance: {counts}" in result.stdout
    # the only notes: secrets the cassettes hold redacted, whose checks ran when they were recorded
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("  drift: ")] == []
    notes = [line for line in lines if line.startswith("  checked at recording: ")]
    assert notes and all("value is redacted in the cassette" in line for line in notes), notes
    assert re.search(r", 0 drift warnings, [1-9][0-9]* values checked at recording\n", result.stdout)
    assert result.stdout.count("not applicable: ") == reads_of_existing


def test_recording_once_twice_replays_the_second_time_with_no_false_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conformance.mock import create_app
    from conformance.mock.serve import BackgroundServer

    command = ["run", "--record-mode", "once", "--cassette-dir", "c"]
    with BackgroundServer(create_app()) as server:
        first = graph_conformance(*command, "--base-url", server.url, cwd=tmp_path, timeout=300)
        recorded = {p.name: p.read_bytes() for p in (tmp_path / "c").glob("*.yaml")}
        second = graph_conformance(*command, "--base-url", server.url, cwd=tmp_path, timeout=300)
    assert first.returncode == 0, first.stdout[-3000:]
    assert second.returncode == 0, second.stdout[-3000:]
    assert first.stdout.splitlines()[-1].split(" in ")[0] == second.stdout.splitlines()[-1].split(" in ")[0]
    assert {p.name: p.read_bytes() for p in (tmp_path / "c").glob("*.yaml")} == recorded  # replayed, not re-recorded


def test_compare_reports_what_changed_between_two_recorded_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    today = tmp_path / "today"
    shutil.copytree(CASSETTES, today)
    update = today / "standard-code-rules--v1.0.yaml"
    before, patch, after = update.read_text().partition("method: PATCH")  # the expiry update's answer
    update.write_text(
        before + patch + after.replace("code: 200\n      message: OK", "code: 204\n      message: No Content", 1)
    )
    method = today / "method-lifecycle--beta.yaml"
    text = method.read_text().replace(
        '"forceChangePinNextSignIn":true', '"forceChangePinNextSignIn":true,"isUsable":true', 1
    )
    method.write_text(text.replace('"lastUsedDateTime":null,', "", 1))
    (today / "policy-read--beta.yaml").unlink()
    same = graph_conformance("compare", CASSETTES, CASSETTES)
    changed = graph_conformance("compare", CASSETTES, today)
    assert (same.returncode, same.stdout) == (0, "graph-conformance compare: no change\n")
    user = "/users/00000000-0000-4000-8000-00000000c0de/authentication/qrCodePinMethod"
    assert (changed.returncode, changed.stdout.splitlines()) == (
        1,
        [
            "policy-read--beta: recorded in the baseline only",
            f"method-lifecycle--beta #3 PUT /beta{user}: new property $.pin.isUsable",
            f"method-lifecycle--beta #3 PUT /beta{user}: missing property $.lastUsedDateTime",
            f"standard-code-rules--v1.0 #5 PATCH /v1.0{user}/standardQRCode: status 200 -> 204",
            "graph-conformance compare: 4 changes",
        ],
    )
