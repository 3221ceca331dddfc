"""The ``graph-conformance`` command: a thin shell over the library.

Exit codes: 0 conformant / up to date, 1 violations or drift found, 2 usage or configuration error.
Heavy modules (jsonschema, httpx, msal) are imported inside the subcommands, never at start-up,
so ``graph-conformance --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__
from conformance.errors import ConformanceError, UsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graph-conformance",
        description="Contract-conformance suite for the Microsoft Graph QR code + PIN authentication method API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the conformance suite (default target: the embedded reference mock)")
    run.add_argument(
        "--schemas", type=Path, metavar="DIR", help="derived schemas to check against (default: the installed ones)"
    )

    derive = commands.add_parser("derive", help="derive JSON Schemas, operations and conflicts from doc pages")
    derive.add_argument(
        "--docs", type=Path, action="append", required=True, metavar="DIR", help="a folder of doc pages (repeatable)"
    )
    target = derive.add_mutually_exclusive_group()
    target.add_argument(
        "--out", type=Path, metavar="DIR", help="write the derived files here (default: schemas/derived)"
    )
    target.add_argument(
        "--check",
        action="store_true",
        help="compare with the committed schemas instead of writing; exit 1 if they differ",
    )
    derive.add_argument(
        "--against",
        type=Path,
        metavar="DIR",
        help="with --check: the committed folder (default: the installed schemas)",
    )
    return parser


def _derive(args: argparse.Namespace) -> int:
    import json

    from conformance import contract
    from conformance import derive as derivation
    from conformance.drift import differences

    if args.against and not args.check:
        raise UsageError("derive: --against goes with --check")
    pages = derivation.load_pages(args.docs)
    derived = derivation.derive(pages)
    repairs = len(derived.files["repairs.json"]["repairs"])
    conflicts = len(derived.files["conflicts.json"]["conflicts"])
    if args.check:
        against = args.against or contract.default_schema_dir()
        if not against.is_dir():
            raise UsageError(f"derive --check: --against {against}: no such directory")
        committed = contract.read_documents(against)
        fresh = {rel: json.loads(derivation.render(doc)) for rel, doc in derived.files.items()}
        found = differences(committed, fresh)
        if found:
            print(f"derived schemas in {against} no longer match the docs ({len(pages)} pages read):")
            for line in found:
                print(f"  {line}")
            print("run 'graph-conformance derive --docs ... --out DIR' to update them, and review the diff")
            return 1
        print(
            f"derived schemas in {against} match the docs: {len(pages)} pages, {len(derived.files)} files, "
            f"{repairs} repairs, {conflicts} conflicts"
        )
        return 0
    out = args.out or Path("schemas") / "derived"
    written = derivation.write(derived, out)
    print(
        f"derived {len(written)} files into {out} from {len(pages)} pages ({repairs} repairs recorded, "
        f"{conflicts} conflicts recorded)"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from conformance import contract

    root = args.schemas or contract.default_schema_dir()
    documents = contract.read_documents(root) if root.is_dir() else {}
    if not documents:
        raise UsageError(f"no derived schemas in {root}")
    print(f"graph-conformance {__version__}: derived schemas in {root} (digest {contract.digest(root)})")
    for version in ("beta", "v1.0"):
        names = contract.type_names(documents, version)
        ops = documents.get(f"{version}/operations.json", {}).get("operations", {})
        print(f"  {version}: {len(names)} schemas ({', '.join(names)}); {len(ops)} documented operations")
    conflicts = documents.get("conflicts.json", {}).get("conflicts", [])
    print(f"  {len(conflicts)} documented conflicts between pages")
    print("the scenario engine is not built yet: no scenario was run")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "derive":
            return _derive(args)
        if args.command == "run":
            return _run(args)
        parser.print_help()
        return 2
    except ConformanceError as exc:
        print(f"graph-conformance: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
