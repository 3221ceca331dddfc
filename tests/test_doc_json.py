"""Tolerant doc JSON: each known defect is repaired and recorded; anything else is refused."""

from __future__ import annotations

from textwrap import dedent

import pytest

from conformance import doc_json
from conformance.doc_json import Unknown
from conformance.errors import DocJsonError


def kinds(repairs: list[doc_json.Repair]) -> list[tuple[str, int]]:
    return [(r.kind, r.line) for r in repairs]


def test_trailing_comma_in_object_is_removed_and_recorded() -> None:
    text = dedent("""\
        {
          "startDateTime": "2025-01-01T12:00:00Z",
        }
        """)
    value, repairs = doc_json.loads(text, "p.md", 92)
    assert value == {"startDateTime": "2025-01-01T12:00:00Z"}
    assert kinds(repairs) == [("trailing-comma", 93)]
    assert repairs[0].page == "p.md"


def test_trailing_comma_in_array_is_removed_and_recorded() -> None:
    value, repairs = doc_json.loads('{"a": [1, 2,\n]}', "p.md", 1)
    assert value == {"a": [1, 2]}
    assert kinds(repairs) == [("trailing-comma", 1)]


def test_missing_comma_between_members_on_separate_lines_is_inserted() -> None:
    text = dedent("""\
        {
          "@odata.type": "microsoft.graph.qrCodeImageDetails"
          "version": 1
        }
        """)
    value, repairs = doc_json.loads(text, "seed.txt", 125)
    assert value == {"@odata.type": "microsoft.graph.qrCodeImageDetails", "version": 1}
    assert kinds(repairs) == [("missing-comma", 126)]


def test_several_defects_in_one_block_are_all_recorded_with_their_lines() -> None:
    text = dedent("""\
        {
          "a": "x"
          "b": [1,],
          "c": {"d": 2,},
        }
        """)
    value, repairs = doc_json.loads(text, "p.md", 10)
    assert value == {"a": "x", "b": [1], "c": {"d": 2}}
    assert kinds(repairs) == [
        ("missing-comma", 11),
        ("trailing-comma", 12),
        ("trailing-comma", 13),
        ("trailing-comma", 13),
    ]


def test_a_missing_comma_does_not_shift_the_lines_of_later_repairs() -> None:
    text = dedent("""\
        {
          "a": 1
          "b": 2
          "c": 3
          "d": [4,]
        }
        """)
    _, repairs = doc_json.loads(text, "p.md", 1)
    assert kinds(repairs) == [("missing-comma", 2), ("missing-comma", 3), ("missing-comma", 4), ("trailing-comma", 5)]


def test_truncated_values_become_unknown_markers() -> None:
    text = dedent("""\
        {
          "binaryValue": "PHN2ZyB2ZXJz...",
          "version": 1
        }
        """)
    value, repairs = doc_json.loads(text, "p.md", 5)
    assert value["binaryValue"] == Unknown("truncated", "PHN2ZyB2ZXJz...")
    assert kinds(repairs) == [("truncated-value", 6)]
    assert doc_json.strip_unknown(value) == {"version": 1}


@pytest.mark.parametrize(
    "placeholder", ["String (timestamp)", "String (identifier)", "String", "Binary", "Boolean", "Integer"]
)
def test_placeholder_values_become_unknown_markers(placeholder: str) -> None:
    text = dedent(f"""\
        {{
          "x": "{placeholder}"
        }}
        """)
    value, repairs = doc_json.loads(text, "p.md", 1)
    assert value == {"x": Unknown("placeholder", placeholder)}
    assert kinds(repairs) == [("placeholder-value", 2)]


def test_real_values_that_merely_look_like_words_are_kept() -> None:
    value, repairs = doc_json.loads('{"state": "enabled", "code": "09599786", "n": "Strings"}', "p.md", 1)
    assert value == {"state": "enabled", "code": "09599786", "n": "Strings"}
    assert repairs == []


def test_value_wrapper_around_one_entity_is_unwrapped_and_recorded() -> None:
    repairs: list[doc_json.Repair] = []
    value = doc_json.unwrap_value({"value": {"id": "x"}}, "p.md", 133, repairs)
    assert value == {"id": "x"}
    assert kinds(repairs) == [("value-wrapper", 133)]


@pytest.mark.parametrize(
    "body",
    [{"value": [{"id": "x"}]}, {"value": {"id": "x"}, "@odata.context": "c"}, {"value": 1}],
    ids=["collection", "with-context", "scalar"],
)
def test_value_that_is_not_a_lone_entity_wrapper_is_left_alone(body: dict[str, object]) -> None:
    repairs: list[doc_json.Repair] = []
    assert doc_json.unwrap_value(body, "p.md", 1, repairs) == body
    assert repairs == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{\n  "a": 1 "b": 2\n}', "p.md:11:10: invalid JSON (Expecting ',' delimiter) that no known repair covers"),
        (
            "{\n  a: 1\n}",
            "p.md:11:3: invalid JSON (Expecting property name enclosed in double quotes) that no known repair covers",
        ),
        (
            "{\n  'a': 1\n}",
            "p.md:11:3: invalid JSON (Expecting property name enclosed in double quotes) that no known repair covers",
        ),
        ('{\n  "a": ,\n}', "p.md:11:8: invalid JSON (Expecting value) that no known repair covers"),
        ('{\n  "a": tru\n}', "p.md:11:8: invalid JSON (Expecting value) that no known repair covers"),
        ('{\n  "a": 1\n', "p.md:12:1: invalid JSON (Expecting ',' delimiter) that no known repair covers"),
        ('{\n  "a": [1 2]\n}', "p.md:11:11: invalid JSON (Expecting ',' delimiter) that no known repair covers"),
        ('{\n  "a": <binary data>\n}', "p.md:11:8: invalid JSON (Expecting value) that no known repair covers"),
        ('{\n  "a": 1\n}\n{"b": 2}', "p.md:13:1: invalid JSON (Extra data) that no known repair covers"),
    ],
    ids=[
        "same-line-missing-comma",
        "unquoted-key",
        "single-quotes",
        "missing-value",
        "bad-literal",
        "unclosed",
        "array-missing-comma",
        "not-json",
        "two-objects",
    ],
)
def test_anything_else_is_refused_with_page_line_column(text: str, expected: str) -> None:
    with pytest.raises(DocJsonError) as caught:
        doc_json.loads(text, "p.md", 10)
    assert str(caught.value) == expected
    assert caught.value.exit_code == 2
