"""YAML scenarios -> frozen :class:`Scenario` objects, with every error at once as ``file:line``.

A scenario file is plain YAML data validated by ``conformance/scenario.schema.json``. No custom
tags, nothing in a file names code. Errors read::

    scenarios/qr.yaml:6: $.steps[0].expect: unknown key 'bodySchem' (did you mean 'body'?)

Templates in request paths, headers, bodies and expected values use a small grammar, no eval:
``{user}``, ``{version}``, a captured variable ``{qr_id}``, and times relative to the case's clock
``{now}``, ``{now+1h}``, ``{now-30m}``, ``{now+395d}`` (units s, m, h, d); ``{{`` and ``}}`` are literal
braces. Templates apply to requests and to ``equals`` / ``one_of`` operands (not to ``matches``
patterns, whose braces are regular-expression quantifiers).

- ``model``: the frozen objects, and where the packaged catalogue, pins and schema are;
- ``templates``: the template grammar, the case clock, ISO 8601 durations (the schema's pattern);
- ``loader``: files -> scenarios, every problem as ``file:line``;
- ``pins``: ``pinned.yaml``, checked against the scenarios.
"""

from conformance.scenarios.loader import load_scenarios, parse_scenario
from conformance.scenarios.model import CATALOGUE, PINNED, WRITE_METHODS, Request, Scenario, Step
from conformance.scenarios.pins import load_pins
from conformance.scenarios.templates import Context, duration, fill, template_names, utc_now

__all__ = [
    "CATALOGUE",
    "PINNED",
    "WRITE_METHODS",
    "Context",
    "Request",
    "Scenario",
    "Step",
    "duration",
    "fill",
    "load_pins",
    "load_scenarios",
    "parse_scenario",
    "template_names",
    "utc_now",
]
