"""Benchmark the public check: answers per second of the verify handler, and a hit's time against a miss's.

    .venv/bin/python bench/verify.py                    # 100 lookups of each kind and mode (about 50 s)
    .venv/bin/python bench/verify.py --requests 50

The handler (chalicelib/verify/handler.py) runs as app.verify runs it, with a CodeBook on an in-process moto
DynamoDB table provisioned from .chalice/resources.json and 1,000 code records. Three kinds of request, in
interleaved order so that load on the shared machine falls on all alike: a hit (a recorded code), a miss (a
well-formed code nobody holds), a typo (a recorded code with one symbol misread: the check symbol catches it) and
a malformed code. Each is measured twice: as deployed (padded to the floor,
`FLOOR_SECONDS`) and with the floor off (the handler's own work: what the padding has to cover). The baseline
is the miss: the figure that matters is the ratio hit / miss of the median times, which must be about 1 as
deployed, so that the time of an answer does not tell whether a code exists.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="lookups of each kind, per mode")
    args = parser.parse_args(argv)
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION":
                        "eu-north-1", "AWS_REGION": "eu-north-1"}.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)

    from moto import mock_aws

    with mock_aws():
        import contextlib
        import io

        from chalicelib import aws
        from chalicelib.config import load_settings
        from chalicelib.mail.reference import ALPHABET, new_reference
        from chalicelib.verify import handler as verify_handler
        from chalicelib.verify.codes import CodeBook
        from notis_cli.provision import provision

        aws.reset_clients()
        provision(session_or_clients=aws.client, settings=load_settings())
        import app as notis_app

        book = CodeBook(aws.client("dynamodb"), load_settings().table)
        codes = [new_reference() for _ in range(1000)]
        for i, code in enumerate(codes):
            book.record(code, send_id="korkortsportalen-2024.customers.notice", campaign="c" + "0" * 20,
                        key=f"{i:032x}", now=time.time(), expires_at=int(time.time()) + 86400)
        kinds = {
            "hit": lambda i: codes[i % len(codes)],
            "miss": lambda i: new_reference(),
            "typo": lambda i: typo(codes[i % len(codes)]),
            "malformed": lambda i: f"not a code {i}",
        }

        def typo(code: str) -> str:
            return code[:5] + ALPHABET[(ALPHABET.index(code[5]) + 1) % len(ALPHABET)] + code[6:]

        def event(typed: str) -> dict:
            return {"resource": "/api/verify/{code}", "path": f"/api/verify/{typed}", "httpMethod": "GET",
                    "headers": {}, "pathParameters": {"code": typed}, "requestContext": {}}

        print(f"verify handler, {args.requests} lookups of each kind per mode, load average "
              f"{os.getloadavg()[0]:.1f}")
        for label, floor in (("floor off (the handler's own work)", 0.0),
                             (f"as deployed (floor {verify_handler.FLOOR_SECONDS:.2f} s)", None)):
            times: dict[str, list[float]] = {k: [] for k in kinds}
            sink = io.StringIO()  # the EMF metric lines
            with contextlib.redirect_stdout(sink):
                for kind in kinds:  # warm up: first template render, first client call
                    verify_handler.handle_verify(event(kinds[kind](0)), site=notis_app.site, book=book, floor=0.0)
                started = time.perf_counter()
                for i in range(args.requests):
                    for kind, typed in kinds.items():
                        t0 = time.perf_counter()
                        out = verify_handler.handle_verify(event(typed(i)), site=notis_app.site, book=book,
                                                           floor=floor)
                        times[kind].append(time.perf_counter() - t0)
                        assert out["statusCode"] == 200 and ('"genuine": true' in out["body"]) == (kind == "hit")
                elapsed = time.perf_counter() - started
            total = args.requests * len(kinds)
            print(f"\n{label}: {total / elapsed:,.0f} answers/s in one thread")
            for kind, values in times.items():
                print(f"  {kind:<10} median {statistics.median(values) * 1000:7.2f} ms   "
                      f"p90 {statistics.quantiles(values, n=10)[-1] * 1000:7.2f} ms")
            miss = statistics.median(times["miss"])
            print(f"  ratio hit / miss {statistics.median(times['hit']) / miss:.3f}   "
                  f"typo / miss {statistics.median(times['typo']) / miss:.3f}   "
                  f"malformed / miss {statistics.median(times['malformed']) / miss:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
