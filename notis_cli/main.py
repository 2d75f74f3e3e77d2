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
        from notis_cli.commands._common import campaign_argument

        if code := campaign_argument(args):  # CAMPAIGN may be a unique prefix of the id
            return code
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's own flush at exit
        return code
    except BrokenPipeError:
        return reader_went_away()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except EOFError:
        print("notis: no answer on standard input; nothing was done (use --yes to confirm without asking)",
              file=sys.stderr)
        return 1
    except Exception as exc:
        reason = aws_problem(exc)
        if reason is None:
            raise
        print(f"notis: {reason}", file=sys.stderr)
        return 1


def reader_went_away() -> int:
    """`notis ... | head` closed the pipe: stop quietly, as a shell tool killed by SIGPIPE would (exit 141).

    The Python docs' recipe: point stdout at devnull so the flush at exit cannot raise a second time.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing left to flush into it
        pass
    return 141


def aws_problem(exc: Exception) -> str | None:
    """One plain line for the AWS failures staff meet (no credentials, no stack, no access), else None."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError"):
        return ("no local stack is running and no AWS credentials were found: start one with `make run`, or set "
                "AWS credentials (or --profile) for the deployment")
    if name in ("EndpointConnectionError", "ConnectTimeoutError"):
        return "cannot reach AWS (or the local stack): check the network, or start the stack with `make run`"
    if name == "ClientError":
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "ExpiredToken",
                    "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"):
            return f"AWS refused the request ({code}): check that your role has the stack's StaffPolicy"
        if code in ("ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "NoSuchBucket"):
            return f"the notis resources were not found ({code}): is this the right account, region and stage?"
    return None


if __name__ == "__main__":
    sys.exit(main())
