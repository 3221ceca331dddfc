"""YAML scenarios -> frozen :class:`Scenario` objects, with every error at once as ``file:line``.

A scenario file is plain YAML data validated by ``conformance/scenario.schema.json``. No custom
tags, nothing in a file names code. Errors read::

    scenarios/qr.yaml:6: $.steps[0].expect: unknown key 'bodySchem' (did you mean 'body'?)

Templates in request paths, headers, bodies and expected values use a small grammar, no eval:
``{user}``, ``{version}``, ``{user_upn}``, ``{user_without_method}`` (run variables: a case that
needs one the run does not give is skipped, naming the flag), a captured variable ``{qr_id}``, two
different valid PINs ``{pin}`` and ``{other_pin}`` (``max(8, pin_length)`` digits), and times
relative to the case's clock ``{now}``, ``{now+1h}``, ``{now-30m}``, ``{now+395d}`` (units s, m, h,
d); ``{{`` and ``}}`` are literal braces. Templates apply to requests and to ``equals`` /
``not_equals`` / ``one_of`` operands (not to ``matches`` patterns, whose braces are
regular-expression quantifiers).

Beyond one request and one expectation per step:

- ``{use: NAME}`` in given, steps or cleanup: the steps of the shared setup NAME
  (``conformance/setups.yaml``: ``policy``, ``no-method``, ``a-method``, ``clean-slate``,
  ``fresh-method``), in place;
- ``method: [POST, PATCH]``: the documented verbs of one operation, sent in order until one is
  routed (not 404, 405 or 501); the verb chosen is recorded;
- ``expect: [{status: 201, ...}, {status: 400, ...}]``: documented alternatives, the one holding the
  answer's status checked in full and recorded; captures then come only from a success;
- ``each: {name: v, rule: RULE}`` (the rule's ``bounds`` in ``rules.yaml``: cases ``below-min`` ..
  ``above-max``, ``{v}`` and ``{v_n}`` bound after the given steps) or ``each: {name: v, values:
  [{label, value, outside}]}``: one scenario per value, id ``<id>--<label>``; a step's
  ``expect_outside`` applies outside the bounds, ``when: inside|outside`` runs a step on one side.

- ``model``: the frozen objects, and where the packaged catalogue, setups, pins and schema are;
- ``templates``: the template grammar, the PIN digits, the case clock, ISO 8601 durations;
- ``loader``: files -> scenarios, every problem as ``file:line``, setups and ``each`` expanded;
- ``each``: the value of one case of an ``each``, bound when the case runs;
- ``pins``: ``pinned.yaml``, checked against the scenarios.
"""

from conformance.scenarios.loader import expand_cases, load_scenarios, load_setups, parse_scenario
from conformance.scenarios.model import (
    CATALOGUE,
    PINNED,
    SETUPS,
    WRITE_METHODS,
    Assertion,
    Binding,
    Expect,
    Request,
    Scenario,
    Span,
    Step,
)
from conformance.scenarios.pins import load_pins
from conformance.scenarios.templates import (
    Context,
    duration,
    fill,
    scenario_variables,
    template_names,
    utc_now,
)

__all__ = [
    "CATALOGUE",
    "PINNED",
    "SETUPS",
    "WRITE_METHODS",
    "Assertion",
    "Binding",
    "Context",
    "Expect",
    "Request",
    "Scenario",
    "Span",
    "Step",
    "duration",
    "expand_cases",
    "fill",
    "load_pins",
    "load_scenarios",
    "load_setups",
    "parse_scenario",
    "scenario_variables",
    "template_names",
    "utc_now",
]
