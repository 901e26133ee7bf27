"""The ``footgun`` command line: a thin shell over the engine (`rules`) and the App (`bot`).

Exit codes: 0 no finding at or above the fail level, 1 findings, 2 usage or
internal error.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence

from footgun.rules.checks import doc_url, package_version
from footgun.rules.config import Config, ConfigError, find_config, load_config
from footgun.rules.docs import rule_docs
from footgun.rules.engine import ScanResult, scan_files, scan_paths
from footgun.rules.fixer import FixError, fix_paths
from footgun.rules.model import Finding
from footgun.rules.output import FORMATS, render
from footgun.rules.output.text import printable, summary

from .progress import for_stream

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"
STDIN_PATH = "<stdin>"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"footgun: configuration error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("footgun: interrupted", file=sys.stderr)
    except Exception as exc:  # a crash must still say what happened and exit 2
        print(f"footgun: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("FOOTGUN_DEBUG"):
            raise
    return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footgun", description="Find Kubernetes Services & Ingress footguns, with fixes."
    )
    parser.add_argument("--version", action="version", version=f"footgun {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="scan files and folders (default: .; - reads standard input)")
    scan.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    scan.add_argument(
        "--stdin-name",
        default=STDIN_PATH,
        metavar="NAME",
        help=f"the path findings name for standard input (default {STDIN_PATH})",
    )
    scan.add_argument("--format", choices=list(FORMATS), default="text")
    scan.add_argument("--config", metavar="FILE", help="use this .footgun.yml instead of the nearest one")
    scan.add_argument(
        "--fail-level",
        choices=["error", "warning", "info", "never"],
        help="lowest severity that makes the exit code 1 (default from config: warning)",
    )
    scan.set_defaults(run=_scan)

    fix = commands.add_parser("fix", help="apply every available fix in place")
    fix.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    fix.add_argument("--config", metavar="FILE")
    fix.set_defaults(run=_fix)

    review = commands.add_parser("review", help="print the review the App would post for a git diff")
    review.add_argument("--repo", default=".", metavar="DIR")
    review.add_argument("--base", metavar="REF", help="default: merge base with the default branch")
    review.add_argument("--head", default="HEAD", metavar="REF")
    review.add_argument("--config", metavar="FILE")
    review.set_defaults(run=_review)

    serve = commands.add_parser("serve", help="run the webhook server and its worker locally")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.set_defaults(run=_serve)

    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("rule", metavar="RULE")
    explain.set_defaults(run=_explain)

    rules = commands.add_parser("rules", help="list the rules with their severity")
    rules.set_defaults(run=_rules)
    return parser


def _config(explicit: str | None, paths: Sequence[str]) -> Config:
    if explicit:
        return load_config(explicit)
    found = find_config(paths[0] if paths else ".")
    return load_config(found) if found else Config()


def _missing(paths: Sequence[str]) -> bool:
    """Whether some path does not exist (said on stderr)."""
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        print(f"footgun: no such file or folder: {', '.join(missing)}", file=sys.stderr)
    return bool(missing)


def _scan(args: argparse.Namespace) -> int:
    if STDIN in args.paths:
        return _scan_stdin(args)
    if _missing(args.paths):
        return EXIT_ERROR
    config = _config(args.config, args.paths)
    result = _scan_with_progress(args.paths, config)
    return _report(result, args, config)


def _report(result: ScanResult, args: argparse.Namespace, config: Config) -> int:
    colour = args.format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(render(result, args.format, colour=colour))
    return EXIT_FINDINGS if result.failing(args.fail_level or config.fail_level) else EXIT_OK


def _scan_with_progress(paths: Sequence[str], config: Config) -> ScanResult:
    progress = for_stream(sys.stderr)
    try:
        return scan_paths(paths, config, progress)
    finally:
        if progress:
            progress.clear()


def _scan_stdin(args: argparse.Namespace) -> int:
    """One YAML stream (``helm template``, ``kustomize build``) from standard input.
    Its findings carry no fix: there is no file to apply one to."""
    if args.paths != [STDIN]:
        print(f"footgun: {STDIN} (standard input) cannot be combined with other paths", file=sys.stderr)
        return EXIT_ERROR
    config = _config(args.config, ["."])
    if sys.stdin.isatty():  # nothing piped in: say what is awaited rather than seem to hang
        print("footgun: reading YAML from standard input (end with Ctrl-D)", file=sys.stderr)
    result = scan_files({args.stdin_name: sys.stdin.buffer.read()}, config)
    for finding in result.findings:
        finding.fix = None
    return _report(result, args, config)


def _fix(args: argparse.Namespace) -> int:
    if _missing(args.paths):
        return EXIT_ERROR
    config = _config(args.config, args.paths)
    try:
        report = fix_paths(args.paths, config)
    except FixError as exc:
        print(f"footgun: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    for path, count in report.changed.items():
        print(f"fixed {count} finding{'s' if count != 1 else ''} in {printable(path)}")
    for finding in report.remaining.findings:
        print(
            printable(
                f"left: {finding.path}:{finding.line}: {finding.severity} {finding.rule}: "
                f"{finding.message} ({_why_left(finding)})"
            )
        )
    for skip in report.remaining.skipped:
        print(printable(f"skipped: {skip.path}: {skip.reason}"))
    print(("Nothing to fix. " if not report.changed else "") + "Left: " + summary(report.remaining))
    return EXIT_FINDINGS if report.remaining.failing(config.fail_level) else EXIT_OK


def _review(args: argparse.Namespace) -> int:
    from footgun.bot.local import LocalReviewError, review_markdown

    config = load_config(args.config) if args.config else None
    try:
        sys.stdout.write(review_markdown(args.repo, base=args.base, head=args.head, config=config))
    except LocalReviewError as exc:
        print(f"footgun: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from footgun.bot.serve import run

    run(args.host, args.port)
    return EXIT_OK


def _why_left(finding: Finding) -> str:
    if finding.fix:
        return "its fix conflicts with another edit"
    if finding.fix_withheld:
        return "its fix was withheld: " + finding.fix_withheld
    return "no automatic fix"


def _explain(args: argparse.Namespace) -> int:
    docs = {doc.id: doc for doc in rule_docs()}
    doc = docs.get(args.rule)
    if doc is None:
        close = difflib.get_close_matches(args.rule, list(docs), n=1)
        hint = f" Did you mean {close[0]}?" if close else " `footgun rules` lists them."
        print(f"footgun: no rule named {args.rule!r}.{hint}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{doc.id} ({doc.severity})\n\n{doc.title}\n\n{doc.body}")
    url = doc_url(doc.id, _docs_base())
    if url:
        print(f"\nOnline: {url}")
    return EXIT_OK


def _docs_base() -> str | None:
    try:
        found = find_config(".")
        return load_config(found).docs_url if found else None
    except ConfigError:  # explaining a rule must not depend on a valid configuration
        return None


def _rules(args: argparse.Namespace) -> int:
    docs = rule_docs()
    width = max(len(doc.id) for doc in docs)
    for doc in docs:
        print(f"{doc.id:<{width}}  {doc.severity:<7}  {doc.summary}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
