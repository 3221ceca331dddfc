"""Hostile targets: a run must end, in bounded time and memory, with the right exit code, no traceback
and no secret in any artefact; and the bounded exchanges under it, unit by unit.

The end-to-end tests run ``graph-conformance run`` against the loopback servers of
``tests/hostile.py`` exactly as a user would (a subprocess, ``--timeout 2``); the unit tests drive
``conformance.transport`` on real loopback servers, or on ``httpx.MockTransport`` where a server
would add nothing.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from textwrap import dedent
from typing import Any

import httpcore
import httpx
import pytest
import vcr
from vcr.serializers import yamlserializer

from conformance import transport
from conformance.report import failure_message
from conformance.runner import Runner
from conformance.transport import (
    Answer,
    BoundedTransport,
    Deadline,
    Incomplete,
    TargetHealth,
    TooDeep,
    TooLarge,
    TooMany,
    decoded_chunks,
    nesting_depth_exceeds,
    parse_json,
    split_codings,
    value_count,
)
from tests import hostile
from tests.helpers import GET_QR, NOW, QR, SCHEMAS, read_qr, scenario
from tests.hostile import CASES, PLANTED_PIN, TABLE_HEAD, HostileServer, Outcome, decompressed_bodies, run_case

KiB = 1024


# --- the corpus, end to end ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case of the corpus, run a few at a time (most of a run is waiting); the figures are printed."""
    root = tmp_path_factory.mktemp("hostile")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.id: pool.submit(run_case, case, root / case.id) for case in CASES}
        done = {name: future.result() for name, future in futures.items()}
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print("\n" + TABLE_HEAD)
        for outcome in done.values():
            print(outcome.row())
    return done


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_hostile_target_ends_the_run_bounded_and_clean(case: hostile.Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.id]
    output = outcome.stdout + outcome.stderr
    assert outcome.exit_code == 1, output[-3000:]
    assert outcome.seconds < case.seconds, f"{case.name}: {outcome.seconds:.1f}s\n{output[-3000:]}"
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    assert case.says in outcome.stdout, outcome.stdout[-3000:]
    # the artefacts were written, so finding no secret in them means something
    assert {"report.json", "junit.xml"} <= set(outcome.artefacts)
    if case.mode in ("bom-json", "token-echo", "x-gzip", "odd-coding"):  # answers that plant secrets were recorded
        assert any(name.endswith(".yaml") for name in outcome.artefacts), sorted(outcome.artefacts)
    assert outcome.leaks() == []
    if case.bomb:
        assert outcome.peak_rss_mb < hostile.RSS_LIMIT_MB
    report = json.loads(outcome.artefacts["report.json"])
    verdicts = {c["id"]: c["outcome"] for c in report["cases"]}
    assert "passed" not in verdicts.values()
    assert not re.search(r"^ +passed ", outcome.stdout, re.MULTILINE), outcome.stdout[-3000:]
    if case.keyword is None:  # the whole catalogue: all but the first few cases were never sent
        assert list(verdicts.values()).count("not-run") >= len(verdicts) - case.sent_at_most, verdicts
    if case.mode == "redirect":
        assert outcome.seen and outcome.redirected == []  # a 3xx is judged, never followed
    if case.mode == "token-echo":
        assert outcome.seen[0].headers["authorization"] == f"Bearer {hostile.PLANTED_TOKEN}"
    cassettes = "\n".join(text for name, text in outcome.artefacts.items() if name.endswith(".yaml"))
    if case.mode == "x-gzip":  # decoded, then scrubbed: the body is there, without its secrets
        assert "REDACTED-PIN" in cassettes and "x-gzip" not in cassettes
    if case.mode == "odd-coding":  # a body the recording cannot read is not stored
        assert f"body dropped: content coding {hostile.ODD_CODING} not readable" in cassettes


def test_the_secret_finder_and_the_rss_wrapper_see_what_they_should(tmp_path: Path) -> None:
    """The two measuring tools, on inputs built to trip them."""
    leaky = Outcome(CASES[0], 1, 0.0, 0.0, "", "", {"cassette.yaml": f"code: '{PLANTED_PIN}'"}, [], [])
    assert leaky.leaks() == [f"{PLANTED_PIN} in cassette.yaml"]
    cassette = yamlserializer.serialize(
        {"interactions": [{"request": {}, "response": {"body": {"string": gzip.compress(hostile.planted_method())}}}]}
    )
    assert PLANTED_PIN not in cassette and any(PLANTED_PIN in body for body in decompressed_bodies(cassette))
    hog = "data = bytearray(400 * 1024 * 1024); data[::4096] = b'x' * len(data[::4096])"
    rss = tmp_path / "rss"
    done = subprocess.run(
        [sys.executable, "-c", hostile._WRAPPER, str(rss), sys.executable, "-c", hog], timeout=60, check=False
    )
    assert done.returncode == 0 and int(rss.read_text()) / 1024 > hostile.RSS_LIMIT_MB


# --- one deadline for the whole exchange ---------------------------------------------------------


def test_a_trickling_body_ends_at_the_deadline() -> None:
    with HostileServer("trickle") as server, httpx.Client() as client:
        started = time.monotonic()
        with pytest.raises(Incomplete) as caught:
            transport.exchange(client, "GET", server.url + "/x", timeout=1.5)
        elapsed = time.monotonic() - started
    assert re.fullmatch(r"no complete answer within 1\.5s \(received [0-2] bytes\)", str(caught.value))
    assert elapsed < 1.5 + 1.0


def test_plain_httpx_reads_a_trickle_past_its_timeout() -> None:
    """Why the deadline is needed: httpx's timeout is per read, so a trickle outlives it."""
    with HostileServer("trickle", lifetime=3) as server, httpx.Client(timeout=1.0) as client:
        started = time.monotonic()
        with pytest.raises(httpx.HTTPError):
            client.get(server.url + "/x")  # ends only when the server gives up
        assert time.monotonic() - started > 2.5


def test_a_hung_target_costs_one_timeout() -> None:
    with HostileServer("hang") as server, httpx.Client() as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            transport.exchange(client, "GET", server.url + "/x", timeout=1.0)
        assert time.monotonic() - started < 2.0


def test_the_deadline_is_checked_between_chunks() -> None:
    ticks = iter([0.0, 0.4, 0.8, 1.2, 1.6])
    deadline = Deadline(1.0, clock=lambda: next(ticks))
    chunks = decoded_chunks([b"a", b"b", b"c", b"d"], encoding="", max_bytes=100, deadline=deadline)
    with pytest.raises(Incomplete, match=r"within 1s \(received 3 bytes\)"):
        b"".join(chunks)


def test_the_socket_timeouts_shrink_to_the_time_left() -> None:
    now = [0.0]
    extensions = Deadline(10.0, clock=lambda: now[0]).arm({})
    assert extensions["timeout"]["read"] == 10.0
    now[0] = 7.5
    extensions["trace"]("http11.receive_response_body.started", {})
    assert set(extensions["timeout"].values()) == {2.5}
    now[0] = 12.0
    extensions["trace"]("http11.receive_response_headers.started", {})
    assert extensions["timeout"]["read"] == pytest.approx(0.001)


@pytest.mark.parametrize("mode", ["header-trickle", "info-storm", "hang"])
def test_the_bounded_transport_ends_a_status_line_and_headers_that_never_end(mode: str) -> None:
    with HostileServer(mode) as server, httpx.Client(transport=BoundedTransport(timeout=1.5)) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.get(server.url + "/x")
        assert time.monotonic() - started < 1.5 + 1.0
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            transport.exchange(client, "GET", server.url + "/x", timeout=1.0)  # the shorter deadline wins
        assert time.monotonic() - started < 1.0 + 1.0
    assert len(server.seen) == 2


@pytest.mark.parametrize("mode", ["header-trickle", "info-storm"])
def test_plain_httpx_waits_out_trickling_headers_and_1xx_storms(mode: str) -> None:
    """Why every read needs the deadline: httpx's read timeout starts again with each byte."""
    with HostileServer(mode, lifetime=2.2) as server, httpx.Client(timeout=1.0) as client:
        started = time.monotonic()
        with pytest.raises(httpx.HTTPError):
            client.get(server.url + "/x")  # ends only when the server gives up
        assert time.monotonic() - started > 2.0


class Wire(httpcore.NetworkStream):
    """A connection on a fake clock: every read takes 0.4 s, every write 0.1 s."""

    def __init__(self, now: list[float]) -> None:
        self.now = now
        self.calls: list[tuple[str, int, float | None]] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.calls.append(("read", max_bytes, timeout))
        self.now[0] += 0.4
        return b"x"

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.calls.append(("write", len(buffer), timeout))
        self.now[0] += 0.1


def test_every_read_and_write_gets_the_time_left_and_none_starts_after_the_deadline() -> None:
    now = [0.0]
    wire = Wire(now)
    stream = transport.deadline.DeadlineStream(wire)
    stream.read(10, 5.0)  # outside an exchange: as asked
    with transport.deadline.CurrentDeadline(Deadline(1.0, clock=lambda: now[0])):
        stream.write(b"a" * 40_000, 5.0)  # in pieces, each under the time left
        stream.read(10, 5.0)
        stream.read(10, 5.0)
        with pytest.raises(httpcore.ReadTimeout, match="no answer within 1s"):
            stream.read(10, 5.0)
        with pytest.raises(httpcore.WriteTimeout):
            stream.write(b"a", 5.0)
    kinds = [(kind, size) for kind, size, _ in wire.calls]
    assert kinds == [("read", 10), ("write", 16384), ("write", 16384), ("write", 7232), ("read", 10), ("read", 10)]
    assert [t for _, _, t in wire.calls] == pytest.approx([5.0, 1.0, 0.9, 0.8, 0.7, 0.3])


# --- the size cap, on the wire and decoded -------------------------------------------------------


def chunks_of(data: bytes, size: int = 4 * KiB) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def read(data: bytes, encoding: str = "", max_bytes: int = 64 * KiB) -> bytes:
    return b"".join(decoded_chunks(chunks_of(data), encoding=encoding, max_bytes=max_bytes, deadline=Deadline(60)))


def deflate(data: bytes, wbits: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda d: d),
        ("gzip", gzip.compress),
        ("deflate", lambda d: deflate(d, zlib.MAX_WBITS)),
        ("deflate", lambda d: deflate(d, -zlib.MAX_WBITS)),  # raw deflate, as some servers send it
        ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d))),
        ("identity", lambda d: d),
    ],
)
def test_answers_up_to_the_cap_decode_and_one_byte_more_is_refused(encoding: str, encode: Any) -> None:
    exact = bytes(range(256)) * 256  # 64 KiB, not very compressible
    assert read(encode(exact), encoding) == exact
    with pytest.raises(TooLarge) as caught:
        read(encode(exact + b"!"), encoding)
    assert caught.value.got in ("more than 64 KiB (wire)", "more than 64 KiB (decoded)")


def test_a_compression_bomb_is_refused_after_the_cap_not_inflated() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * KiB))  # 64 MiB of zeros in about 64 KiB
    produced = 0
    with pytest.raises(TooLarge, match=r"more than 1 MiB \(decoded\)"):
        for chunk in decoded_chunks(chunks_of(bomb), encoding="gzip", max_bytes=1024 * KiB, deadline=Deadline(60)):
            produced += len(chunk)
    assert produced <= 1024 * KiB


def test_an_announced_length_over_the_cap_stops_before_the_body() -> None:
    class Unread(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            raise AssertionError("the body was read")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(10 * KiB)}, stream=Unread())

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        answer = transport.exchange(client, "GET", "http://127.0.0.1:9/x", max_bytes=KiB)
    assert (answer.status, answer.refused, answer.content) == (
        200,
        "10240 bytes (wire, announced by Content-Length)",
        b"",
    )


@pytest.mark.parametrize(
    ("header", "left", "decoded"),
    [
        ("", [], []),
        ("identity", [], []),
        ("gzip", [], ["gzip"]),
        ("X-Gzip", [], ["x-gzip"]),
        ("deflate, gzip", [], ["gzip", "deflate"]),
        ("br", ["br"], []),
        ("x-hostile, gzip", ["x-hostile"], ["gzip"]),  # the outer layer is undone, the inner one stays
        ("gzip, x-hostile", ["gzip", "x-hostile"], []),  # nothing under an unknown layer is touched
    ],
)
def test_codings_are_undone_from_the_last_applied_until_one_is_not_decoded_here(
    header: str, left: list[str], decoded: list[str]
) -> None:
    assert split_codings(header) == (left, decoded)


def test_x_gzip_is_gzip() -> None:
    exact = bytes(range(256)) * 256
    assert read(gzip.compress(exact), "x-gzip") == exact
    with pytest.raises(TooLarge, match="decoded"):
        read(gzip.compress(exact + bytes(64 * KiB)), "x-gzip")


def test_the_bounded_transport_decodes_x_gzip_and_leaves_other_codings_marked() -> None:
    with (
        HostileServer("x-gzip") as xgzip,
        HostileServer("odd-coding") as odd,
        HostileServer("odd-coding", coding="br") as brotli,
        HostileServer("ok") as ok,
        httpx.Client(transport=BoundedTransport(timeout=5)) as client,
    ):
        answer = client.get(xgzip.url + "/x")
        assert "content-encoding" not in answer.headers and answer.json()["pin"]["code"] == PLANTED_PIN
        answer = client.get(odd.url + "/x")  # read as it came, and says so
        assert answer.headers["content-encoding"] == hostile.ODD_CODING
        assert gzip.decompress(answer.content) == hostile.planted_method()
        with pytest.raises(httpx.DecodingError, match="content coding x-hostile, which is not decoded here"):
            transport.exchange(client, "GET", odd.url + "/x")
        with pytest.raises(httpx.DecodingError, match="content coding br"):  # httpx could inflate it unbounded
            client.get(brotli.url + "/x")
        client.get(ok.url + "/x", headers={"Accept-Encoding": "br, gzip"})
        client.get(ok.url + "/x", headers={"Accept-Encoding": "identity"})
    assert [seen.headers["accept-encoding"] for seen in ok.seen] == ["gzip, deflate", "identity"]


def test_broken_gzip_is_a_decoding_error() -> None:
    with pytest.raises(httpx.DecodingError, match="not valid gzip"):
        read(b"this is not gzip at all", "gzip")


def test_a_byte_order_mark_is_not_part_of_the_text() -> None:
    answer = Answer(200, httpx.Headers({"content-type": "application/json; charset=utf-8"}), b'\xef\xbb\xbf{"a": 1}')
    assert json.loads(answer.text) == {"a": 1}
    assert Answer(200, httpx.Headers(), b'\xef\xbb\xbf{"a": 1}').text == '{"a": 1}'


# --- JSON depth -----------------------------------------------------------------------------------


def naive_depth(text: str) -> int:
    """Bracket counting that ignores strings: what the scan must not do."""
    depth = deepest = 0
    for char in text:
        depth += 1 if char in "[{" else -1 if char in "]}" else 0
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"a": "[" * 100}),
        json.dumps({"a": "{[" * 100 + '\\"' + "]" * 3}),
        '{"a": "\\"' + "[" * 100 + '"}',  # an escaped quote does not end the string
    ],
)
def test_brackets_inside_strings_do_not_count(text: str) -> None:
    assert naive_depth(text) > 64  # what a scan that ignores strings would call too deep
    assert not nesting_depth_exceeds(text, 64)
    assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize(
    "text", ["[" * 64 + "]" * 64, "[" + ",".join(["[]"] * 100_000) + "]", '{"a": [[{"b": [1, "]]]]"]}]]}']
)
def test_nesting_up_to_the_limit_and_wide_answers_parse(text: str) -> None:
    assert not nesting_depth_exceeds(text, 64)
    assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 65 + "]" * 65,
        '{"a":' * 65 + "1" + "}" * 65,
        "[" * 1000 + "]" * 1000,
        "[" * 100_000,
        '[{"a": "]"}' + "[" * 70,
    ],
)
def test_nesting_deeper_than_the_limit_is_too_deep_never_a_recursion_error(text: str) -> None:
    assert nesting_depth_exceeds(text, 64)
    with pytest.raises(TooDeep, match="more than 64 levels"):
        parse_json(text)


def json_values(value: Any) -> int:
    """Values counted by walking the parsed JSON."""
    if isinstance(value, list):
        return 1 + sum(map(json_values, value))
    if isinstance(value, dict):
        return 1 + sum(map(json_values, value.values()))
    return 1


VALUES = [
    "3",
    '""',
    "[]",
    "{}",
    '[""]',
    "[{},{}]",
    '{"a": 1, "b": []}',
    ' [ 1 , [ ] , { } , { "a" : [ 1 ] } ] ',
    '["a,[{", {"k,}{": "]"}, "\\"[,"]',
    json.dumps({"value": [{"id": str(i), "tags": [], "x": {"y": [1, 2]}} for i in range(50)]}, indent=2),
]


@pytest.mark.parametrize("text", VALUES)
def test_values_are_counted_exactly_without_parsing(text: str) -> None:
    assert value_count(text) == json_values(json.loads(text))


def test_a_count_that_ignores_strings_and_empty_containers_would_be_wrong() -> None:
    def naive(text: str) -> int:
        return sum(text.count(c) for c in ",[{") + 1

    wrong = [text for text in VALUES if naive(text) != json_values(json.loads(text))]
    assert len(wrong) >= 6, wrong


def test_more_values_than_the_limit_are_refused_before_parsing() -> None:
    at_limit = "[" + ",".join(["{}"] * 999) + "]"  # 1000 values
    assert parse_json(at_limit, max_values=1000) == [{}] * 999
    with pytest.raises(TooMany, match="more than 1000 values") as caught:
        parse_json("[" + ",".join(["{}"] * 1000) + "]", max_values=1000)
    assert (caught.value.expected, caught.value.got) == ("JSON of at most 1000 values", "more than 1000 values")
    assert isinstance(caught.value, TooDeep)  # a caller that knows only TooDeep still never parses it
    commas_in_a_string = json.dumps(["a," * 5000 + "[{"])
    assert parse_json(commas_in_a_string, max_values=10) == json.loads(commas_in_a_string)


def test_sixteen_mebibytes_of_empty_objects_are_refused_quickly() -> None:
    text = hostile.many_values().decode()
    started = time.monotonic()
    with pytest.raises(TooMany):
        parse_json(text)
    assert time.monotonic() - started < 5


def test_recursion_in_the_parser_itself_is_caught() -> None:
    with pytest.raises(RecursionError):
        json.loads("[" * 100_000 + "]" * 100_000)  # the crash the limit prevents
    with pytest.raises(TooDeep):
        parse_json("[" * 100_000 + "]" * 100_000, max_depth=10**9)  # no pre-scan limit: the fallback


# --- the target's health ---------------------------------------------------------------------------


def test_two_failures_in_a_row_make_the_target_unreachable_and_an_answer_resets_the_count() -> None:
    health = TargetHealth()
    health.failure("ConnectError: refused")
    health.answered()
    health.failure("ReadTimeout")
    assert health.stop_reason is None
    health.failure("no answer within 2s (ReadTimeout)")
    assert health.unreachable == "no answer within 2s (ReadTimeout)"
    assert health.stop_reason == "target unreachable (no answer within 2s (ReadTimeout))"
    health.answered()
    assert health.stop_reason is not None  # final for the run


def test_four_failures_in_a_run_make_the_target_unreachable_whatever_answered_between() -> None:
    health = TargetHealth()
    for _ in range(3):
        health.failure("no answer within 2s (ReadTimeout)")
        health.answered()
    assert health.stop_reason is None
    health.failure("ConnectError: refused")
    assert (
        health.stop_reason == "target unreachable (4 transport failures in this run, the last: ConnectError: refused)"
    )
    patient = TargetHealth(unreachable_total=100)  # counting only failures in a row: the flaw this closes
    for _ in range(10):
        patient.failure("no answer within 2s (ReadTimeout)")
        patient.answered()
    assert patient.stop_reason is None


def test_two_throttled_answers_in_a_row_stop_the_run_and_waits_are_capped() -> None:
    health = TargetHealth()
    health.answered(throttled=True)
    health.answered(throttled=False)
    health.answered(throttled=True)
    assert health.stop_reason is None
    health.answered(throttled=True)
    assert health.stop_reason == "target keeps answering 429/503"
    assert not health.reserve_wait(6.5, 6) and health.reserve_wait(5, 6)  # a refused wait is not counted
    assert not health.reserve_wait(1.5, 6) and health.reserve_wait(1, 6) and not health.reserve_wait(0.5, 6)


CLEANUP_TWICE = dedent(
    """\
    writes: true
    steps:
      - request: {method: GET, path: /a}
    cleanup:
      - request: {method: DELETE, path: /c}
      - request: {method: DELETE, path: /d}
    """
)


def runner(handler: Any, health: TargetHealth, **options: Any) -> Runner:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Runner(client, base_url="http://127.0.0.1:9", user="u1", schemas=SCHEMAS, health=health, **options)


def test_an_unreachable_target_skips_the_cleanup_left_and_every_later_case() -> None:
    seen: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        raise httpx.ConnectError("Connection refused", request=request)

    health = TargetHealth()
    first = runner(refuse, health).run(scenario(CLEANUP_TWICE), "beta", NOW)
    assert seen == ["/beta/a", "/beta/c"]
    assert first.outcome == "error"
    assert first.error is not None and first.error.endswith(
        "; cleanup not run: target unreachable (ConnectError: Connection refused)"
    )
    second = runner(refuse, health).run(scenario(GET_QR), "beta", NOW)
    assert seen == ["/beta/a", "/beta/c"]  # nothing more was sent
    assert (second.outcome, second.not_run) == ("not-run", "target unreachable (ConnectError: Connection refused)")
    assert "not run: target unreachable (ConnectError: Connection refused)" in failure_message(second)


def test_an_answer_between_failures_keeps_the_run_going() -> None:
    answers = iter([httpx.ConnectError("refused"), httpx.Response(200, json=QR), httpx.ConnectError("refused")])

    def flaky(request: httpx.Request) -> httpx.Response:
        answer = next(answers, httpx.Response(200, json=QR))
        if isinstance(answer, Exception):
            raise answer
        return answer

    health = TargetHealth()
    for _ in range(3):
        runner(flaky, health).run(scenario(GET_QR), "beta", NOW)
    assert health.stop_reason is None


def test_a_throttling_storm_stops_the_run_and_its_waits_stay_within_the_run_budget() -> None:
    seen: list[str] = []
    slept: list[float] = []

    def storm(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(429, headers={"Retry-After": "1"})

    health = TargetHealth()
    cases = [runner(storm, health, sleep=slept.append, retry_budget=1.5).run(scenario(CLEANUP_TWICE), "beta", NOW)]
    cases += [runner(storm, health, sleep=slept.append, retry_budget=1.5).run(scenario(GET_QR), "beta", NOW)]
    # the step waits once (its case's budget is then spent), the first cleanup gets 429 again: the
    # target is throttling; the second cleanup is still sent, once, without waiting; the next case is not run
    assert (seen, slept) == (["/beta/a", "/beta/a", "/beta/c", "/beta/d"], [1.0])
    assert [c.outcome for c in cases] == ["failed", "not-run"]
    assert cases[1].not_run == "target keeps answering 429/503"


def test_the_run_waits_on_retry_after_for_at_most_two_case_budgets() -> None:
    slept: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json=QR)] * 4)
    health = TargetHealth()
    results = [
        runner(lambda r: next(answers), health, sleep=slept.append, retry_budget=1.5).run(
            scenario(read_qr("expect: {status: 200}")), "beta", NOW
        )
        for _ in range(4)
    ]
    assert slept == [1.0, 1.0, 1.0]  # each case could wait 1.5s, the run 3s
    assert [r.outcome for r in results] == ["passed", "passed", "passed", "failed"]
    assert [(v.where, v.expected, v.got) for v in results[3].violations] == [
        ("status", "200", "429"),
        ("status", "an answer within the run's retry budget (3s)", "429 after 0 retries"),
    ]


def test_a_bom_answer_is_read_and_its_pin_never_reaches_the_report() -> None:
    body = b'\xef\xbb\xbf{"pin": {"code": "' + PLANTED_PIN.encode() + b'"}}'
    answer = httpx.Response(200, headers={"content-type": "application/json"}, stream=httpx.ByteStream(body))
    result = runner(lambda r: answer, TargetHealth()).run(
        scenario(read_qr("expect: {body: {$.pin.code: {is_null: true}}}")), "beta", NOW
    )
    assert [(v.where, v.got) for v in result.violations] == [("$.pin.code", "<redacted code: a 8-character string>")]
    assert PLANTED_PIN not in failure_message(result) and PLANTED_PIN not in result.exchanges[0].response_text


def test_a_body_over_the_cap_is_a_violation_and_only_the_status_is_judged() -> None:
    big = httpx.Response(200, stream=httpx.ByteStream(b"[" + b" " * 2 * KiB + b"]"))
    result = runner(lambda r: big, TargetHealth(), max_response_bytes=KiB).run(
        scenario(read_qr("expect: {status: 201, schema: qrCode}\ncapture: {x: $.id}")), "beta", NOW
    )
    assert [(v.where, v.expected, v.got) for v in result.violations] == [
        ("status", "201", "200"),
        ("body", "an answer of at most 1 KiB (--max-response-bytes)", "more than 1 KiB (wire)"),
    ]


# --- the same limits below a client, and below vcrpy while it records ------------------------------


def test_the_bounded_transport_limits_every_request_of_a_client(tmp_path: Path) -> None:
    bounded = BoundedTransport(timeout=1.5, max_bytes=1024 * KiB)
    with (
        HostileServer("gzip-bomb") as bomb,
        HostileServer("trickle") as trickle,
        HostileServer("ok") as ok,
        httpx.Client(transport=bounded) as client,
    ):
        assert client.get(ok.url + "/x").json() == {}
        with pytest.raises(TooLarge, match="more than 1 MiB"):
            client.get(bomb.url + "/x")
        started = time.monotonic()
        with pytest.raises(Incomplete):
            client.get(trickle.url + "/x")
        assert time.monotonic() - started < 2.5
        with vcr.use_cassette(str(tmp_path / "c.yaml"), record_mode="all"):  # vcrpy reads whole answers
            started = time.monotonic()
            with pytest.raises(Incomplete):
                client.get(trickle.url + "/x")
            assert time.monotonic() - started < 2.5
            with pytest.raises(TooLarge):
                client.get(bomb.url + "/x")
        answer = transport.exchange(client, "GET", bomb.url + "/x", max_bytes=1024 * KiB)
    assert (answer.status, answer.refused) == (200, "more than 1 MiB (decoded)")


def test_the_hostile_server_stops_by_itself() -> None:
    ended: list[str] = []

    def ask(url: str) -> None:
        try:
            httpx.get(url, timeout=5)
        except httpx.HTTPError as exc:
            ended.append(type(exc).__name__)

    with HostileServer("hang", lifetime=0.5) as server:
        client = threading.Thread(target=ask, args=(server.url,), daemon=True)
        client.start()
        assert server.stop.wait(3)  # the lifetime ended it, not the with block
        client.join(3)
    assert ended == ["RemoteProtocolError"]
