"""Staff commands fail with one plain line, never a traceback, when AWS cannot be reached or refuses."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from notis_cli import main as cli


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (NoCredentialsError(), "no local stack is running and no AWS credentials"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:5000"), "cannot reach AWS"),
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "x"}}, "Scan"), "StaffPolicy"),
        (ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, "Scan"), "not found"),
        (EOFError(), "use --yes"),
    ],
)
def test_aws_failures_are_one_line(monkeypatch, capsys, error, words):
    def failing(args):
        raise error

    parser = cli.build_parser()
    args = parser.parse_args(["status"])
    args.run = failing
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(parser, args))
    assert cli.main(["status"]) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_other_errors_are_not_hidden(monkeypatch):
    parser = cli.build_parser()
    args = parser.parse_args(["status"])

    def broken(args):
        raise ZeroDivisionError

    args.run = broken
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(parser, args))
    with pytest.raises(ZeroDivisionError):
        cli.main(["status"])


class _Fixed:
    def __init__(self, parser, args):
        self.parser, self.args = parser, args

    def parse_args(self, argv):
        return self.args

    def print_help(self, stream):
        self.parser.print_help(stream)
