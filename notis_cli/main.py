"""Entry point of `notis`: discovers the sub-command modules and runs the one asked for."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from notis_cli import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notis",
        description="notis: incident page and breach notification mailer (staff tool).",
    )
    parser.add_argument("--profile", help="AWS profile to use (default: the standard AWS environment)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    if args.profile:
        import os

        os.environ["AWS_PROFILE"] = args.profile
    from notis_cli.target import use_local_stack_if_running

    use_local_stack_if_running(profile=args.profile)  # the local stack while it runs, unless told otherwise
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
