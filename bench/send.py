"""Benchmark the sender: the real handler (handle_send -> Worker -> limiter -> SES call) against a simulated SES.

    .venv/bin/python bench/send.py                       # 14, 100, 500 and 1,000 per second, ~30 s each
    .venv/bin/python bench/send.py --rates 100 --seconds 10 --latency 0.06 --cost 0

The simulated SES has `send_email(**kwargs)`, takes `--latency` seconds per call and enforces the configured
maximum rate: a call that would make more than `rate` accepted calls within any sliding second raises the same
ClientError SES does (TooManyRequestsException, HTTP 429). The ledger is an in-memory implementation of the
Ledger interface with `--ddb-latency` per call (moto in-process is neither fast nor thread-safe enough for
hundreds of writes per second). `concurrency` threads play Lambda's maximum concurrency: each takes up to
`batch` messages (SendBatchSize) from an in-memory queue, invokes the handler, and puts back the messages in
batchItemFailures.
The baseline is the configured rate itself: the ratio achieved / configured is the figure that matters.
Goal: >= 0.97 of the configured rate, 0 duplicates, 0 lost.

With `--cost N` (default 1,000) it first runs N people through the real pipeline on moto (bench/sendcost.py),
on the happy path and with SES failing 20 % of calls transiently and throttling 10 %, counts every AWS request,
and prints per 1,000 e-mails the requests, DynamoDB capacity, Lambda GB-seconds and the cost at list prices
next to SES's own $0.10; the send function's GB-seconds at each rate come from that rate's run.
Goal: everything notis adds costs at most 10 % of SES's price.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import logging
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from botocore.exceptions import ClientError  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import sendcost  # noqa: E402

from chalicelib.config import load_settings  # noqa: E402
from chalicelib.handlers import handle_send  # noqa: E402
from chalicelib.sending import ledger as L  # noqa: E402

CONCURRENCY = {14: 2, 100: 4, 500: 10, 1000: 10}
# SendBatchSize as docs/deploy.md advises: about 0.4 x rate / concurrency (20 s of sending per invocation), at least 10
BATCH = {14: 10, 100: 10, 500: 20, 1000: 40}


class SimulatedSES:
    """Latency per call and an enforced maximum rate (sliding one-second window of accepted calls)."""

    def __init__(self, rate: float, latency: float):
        self.rate = rate
        self.latency = latency
        self.lock = threading.Lock()
        self.window: collections.deque[float] = collections.deque()
        self.accepted: collections.Counter[str] = collections.Counter()
        self.times: list[float] = []
        self.throttled = 0
        self.n = 0

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.rate:
                self.throttled += 1
                throttle = True
            else:
                throttle = False
                self.window.append(now)
                self.n += 1
                mid = f"sim-{self.n}"
        time.sleep(self.latency)
        if throttle:
            raise ClientError(
                {
                    "Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."},
                    "ResponseMetadata": {"HTTPStatusCode": 429},
                },
                "SendEmail",
            )
        to = kwargs["Destination"]["ToAddresses"][0]
        with self.lock:
            self.accepted[to] += 1
            self.times.append(now)
        return {"MessageId": mid}


class MemoryCodes:
    """The code records (chalicelib/verify/codes.py) in memory: one conditional put per e-mail, one round trip."""

    def __init__(self, latency: float):
        self.latency = latency
        self.codes: dict[str, tuple[str, str]] = {}
        self.lock = threading.Lock()

    def record(self, code: str, *, send_id: str, campaign: str, key: str, now: float, expires_at: int) -> None:
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            if self.codes.setdefault(code, (send_id, key)) != (send_id, key):
                raise RuntimeError("code collision")


class MemoryLedger:
    """The Ledger interface in memory, with a simulated DynamoDB round trip per call."""

    def __init__(self, latency: float):
        self.latency = latency
        self.lock = threading.Lock()
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.counters: collections.Counter[str] = collections.Counter()

    def _rtt(self) -> None:
        if self.latency:
            time.sleep(self.latency)

    def suppressed(self, keys: Any) -> dict[str, str]:
        self._rtt()
        return {}

    def mark_suppressed(self, *a: Any, **k: Any) -> bool:  # pragma: no cover - nobody is suppressed here
        return False

    def claim(
        self,
        send_id: str,
        key: str,
        *,
        owner: str,
        now: float,
        lease: float,
        reference: str,
        expires_at: int,
        campaign: str = "",
    ) -> L.Claim:
        self._rtt()
        with self.lock:
            item = self.items.get((send_id, key))
            if item is None or (item["state"] == L.CLAIMED and item["lease_until"] < now):
                item = item or {"attempts": 0, "reference": reference}
                item.update(state=L.CLAIMED, lease_until=now + lease, owner=owner, attempts=item["attempts"] + 1)
                self.items[(send_id, key)] = item
                return L.Claim(True, L.CLAIMED, item["reference"], item["attempts"])
            return L.Claim(False, "held" if item["state"] == L.CLAIMED else item["state"])

    def _move(self, send_id: str, key: str, owner: str, state: str, counter: str, **sets: Any) -> bool:
        self._rtt()
        with self.lock:
            item = self.items.get((send_id, key))
            if not item or item["state"] != L.CLAIMED or item["owner"] != owner:
                return False
            item.update(state=state, **sets)
            self.counters[counter] += 1
        return True  # the counter is added once per invocation (flush_counters), as Ledger(batch_counters=True)

    def flush_counters(self) -> None:
        self._rtt()

    def mark_sent(
        self, send_id: str, key: str, *, owner: str, message_id: str, now: float, campaign: str = ""
    ) -> bool:
        return self._move(send_id, key, owner, L.SENT, "sent", message_id=message_id)

    def mark_failed(self, send_id: str, key: str, *, owner: str, reason: str, now: float, campaign: str = "") -> bool:
        return self._move(send_id, key, owner, L.FAILED, "failed", reason=reason)

    def release(self, send_id: str, key: str, *, owner: str) -> None:
        self._rtt()
        with self.lock:
            item = self.items.get((send_id, key))
            if item and item["state"] == L.CLAIMED and item["owner"] == owner:
                item["lease_until"] = 0


class Registry:
    """Who is sending now (share.py's registry), in memory and shared by the bench's invocations."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.until: dict[str, float] = {}

    def register(self, owner: str, until: float) -> None:
        time.sleep(0.005)
        with self.lock:
            self.until[owner] = until

    def live(self, now: float) -> int:
        time.sleep(0.005)
        with self.lock:
            return sum(1 for u in self.until.values() if u > now)

    def done(self, owner: str) -> None:
        time.sleep(0.005)
        with self.lock:
            self.until[owner] = 0


class SendingCampaigns:
    """The campaign gate of a bench with no table: every campaign is sending (one read per batch, like AWS)."""

    def states(self, campaigns: Any) -> dict[str, str]:
        time.sleep(0.005)
        return {c: "queued" for c in campaigns}

    def stop(self, campaign: str, **_: Any) -> bool:
        return True


def run(
    rate: float, concurrency: int, seconds: float, latency: float, ddb_latency: float, render: Any, batch: int = 10
) -> dict:
    settings = dataclasses.replace(
        load_settings(),
        max_send_rate=rate,
        send_concurrency=concurrency,
        sender="Notis <notis@example.org>",
        configuration_set="",
    )
    total = max(50, int(rate * seconds))
    per_message = max(1, min(50, total // (concurrency * batch * 2)))  # at least two batches per invocation
    emails = [f"p{i:07d}@example.se" for i in range(total)]
    queue: collections.deque[str] = collections.deque()
    for start in range(0, total, per_message):
        queue.append(
            json.dumps(
                {
                    "v": 1,
                    "send_id": "c" + "0" * 20,
                    "campaign": "c" + "0" * 20,
                    "incident": "korkortsportalen-2024",
                    "audience": "customers",
                    "template": "notice",
                    "recipients": [
                        {"key": f"{i:064x}", "email": e, "names": ["Anna Andersson"], "lang": "sv"}
                        for i, e in enumerate(emails[start : start + per_message], start)
                    ],
                }
            )
        )
    ses, ledger, gate = SimulatedSES(rate, latency), MemoryLedger(ddb_latency), SendingCampaigns()
    senders = Registry()
    codes = MemoryCodes(ddb_latency)
    qlock = threading.Lock()
    busy = [0.0]
    invocations = [0]

    def lambda_loop() -> None:
        while True:
            with qlock:
                bodies = [queue.popleft() for _ in range(min(batch, len(queue)))]
            if not bodies:
                return
            event = {"Records": [{"messageId": str(i), "body": b} for i, b in enumerate(bodies)]}
            began = time.monotonic()
            response = handle_send(event, settings, ses=ses, ledger=ledger, gate=gate, render=render, codes=codes,
                                   senders=senders, remaining_ms=lambda: 300_000)
            with qlock:
                busy[0] += time.monotonic() - began
                invocations[0] += 1
                for failure in response["batchItemFailures"]:
                    queue.append(bodies[int(failure["itemIdentifier"])])

    logging.getLogger().setLevel(logging.WARNING)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    started, cpu = time.monotonic(), time.process_time()
    threads = [threading.Thread(target=lambda_loop) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.monotonic() - started, time.process_time() - cpu
    times = sorted(ses.times)
    n = len(times)
    achieved = (n - 1) / (times[-1] - times[0]) if n > 1 else 0.0
    lo, hi = times[n // 10], times[(9 * n) // 10]
    steady = ((9 * n) // 10 - n // 10) / (hi - lo) if hi > lo else 0.0
    return {
        "rate": rate,
        "concurrency": concurrency,
        "batch": batch,
        "emails": total,
        "per_message": per_message,
        "achieved": achieved,
        "ratio": achieved / rate,
        "steady_ratio": steady / rate,
        "throttled": ses.throttled,
        "duplicates": sum(1 for c in ses.accepted.values() if c > 1),
        "lost": sum(1 for e in emails if ses.accepted[e] == 0),
        "invocations": invocations[0],
        "lambda_s_per_1000": busy[0] / max(1, n) * 1000,
        "wall": wall,
        "cpu_ms_per_email": cpu / max(1, n) * 1000,
        "cores": cpu / wall if wall else 0.0,
    }


def _cost_run(people: int, faults: bool, memory: dict[str, int], label: str) -> tuple[str, sendcost.Fixed]:
    r = sendcost.run(people, faults=faults)
    fixed = sendcost.fixed_costs(r, memory)
    return "\n".join([
        f"cost per 1,000 e-mails sent, {label} ({r.emails} people on moto: {r.sent} sent, "
        f"{r.duplicates} duplicates, {r.lost} not delivered)",
        *fixed.lines,
        f"  rate-independent part: {sendcost._usd(fixed.usd)}; send function CPU "
        f"{r.send_cpu_per_email * 1000:.1f} ms per e-mail here (moto in-process included)\n",
    ]), fixed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[14, 100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=30.0, help="e-mails = rate x seconds")
    parser.add_argument("--latency", type=float, default=0.06, help="simulated SES latency per call (s)")
    parser.add_argument("--ddb-latency", type=float, default=0.005, help="simulated DynamoDB latency per call (s)")
    parser.add_argument("--concurrency", type=int, help="invocations at once (default 2/4/10/10 for 14/100/500/1000)")
    parser.add_argument("--batch", type=int, help="messages per invocation, SendBatchSize (default 10/10/20/40)")
    parser.add_argument("--fake-render", action="store_true", help="skip Jinja2 + MIME (a fixed 2 kB message)")
    parser.add_argument("--render-limit", type=float, default=200.0, metavar="RATE",
                        help="above this rate the fixed message (one process cannot render for ten invocations)")
    parser.add_argument("--cost", type=int, default=1000, metavar="N",
                        help="people in the cost runs on moto (0: no cost runs)")
    args = parser.parse_args()
    fixed: dict[str, sendcost.Fixed] = {}
    memory = sendcost.memory_from_template()
    prices = sendcost.PRICES
    for label, faults in (("happy path", False), ("20 % transient, 10 % throttled", True)) if args.cost else ():
        # in a child process: moto's thousands of items and threads stay out of the rate runs' timing
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as child:
            text, fixed[label] = child.submit(_cost_run, args.cost, faults, memory, label).result()
        print(text)
    def fixed_render(job: Any, r: Any, reference: str) -> bytes:
        return b"Subject: x\r\n\r\n" + b"x" * 2000

    from chalicelib.sending.render import mail_renderer

    real_render = mail_renderer(sender="Notis <notis@example.org>")
    print(
        f"SES latency {args.latency * 1000:.0f} ms, DynamoDB {args.ddb_latency * 1000:.0f} ms, render "
        f"{'fixed' if args.fake_render else f'real (Jinja2 + MIME) up to {args.render_limit:.0f}/s, fixed above'}"
        f", load average {os.getloadavg()[0]:.1f}"
    )
    ok = cheap = True
    ses_usd = prices["ses_per_1000"]
    for rate in args.rates:
        concurrency = args.concurrency or CONCURRENCY.get(int(rate), max(1, int(rate // 50)))
        real = not args.fake_render and rate <= args.render_limit
        render = real_render if real else fixed_render
        batch = args.batch or BATCH.get(int(rate), 10)
        r = run(rate, concurrency, args.seconds, args.latency, args.ddb_latency, render, batch)
        print(
            f"{'real ' if real else 'fixed'} rate {r['rate']:>5.0f}/s x{r['concurrency']:<2} b{r['batch']:<2} "
            f"{r['emails']:>6} "
            f"e-mails ({r['per_message']}/msg): "
            f"achieved {r['achieved']:7.2f}/s  ratio {r['ratio']:.3f} (steady {r['steady_ratio']:.3f})  "
            f"throttled {r['throttled']}  duplicates {r['duplicates']}  lost {r['lost']}  "
            f"Lambda-s/1000 {r['lambda_s_per_1000']:.1f}  invocations {r['invocations']}  wall {r['wall']:.1f}s  "
            f"bench CPU {r['cpu_ms_per_email']:.2f} ms/e-mail ({r['cores']:.2f} cores)"
        )
        ok &= r["ratio"] >= 0.97 and r["duplicates"] == 0 and r["lost"] == 0
        for label, part in fixed.items():
            seconds = r["lambda_s_per_1000"] * part.ses_attempts_per_sent  # each SES attempt takes a rate token
            gbs, send_usd = sendcost.send_lambda_usd(seconds, memory["send"],
                                                     r["invocations"] * 1000 / max(1, r["emails"]))
            total = part.usd + send_usd
            share = total / ses_usd
            cheap &= share <= Decimal("0.10")
            print(f"   {label:<31} send function {memory['send']} MB x {seconds:.1f} s = {gbs:.1f} GB-s "
                  f"{sendcost._usd(send_usd)}; notis {sendcost._usd(total)} per 1,000 = {share:.1%} of SES's "
                  f"${ses_usd} ({(total + part.dynamodb_usd) / ses_usd:.1%} at twice the DynamoDB price)")
    print("rate goal met (>= 0.97, 0 duplicates, 0 lost)" if ok else "rate goal NOT met")
    if fixed:
        print("cost goal met (notis <= 10 % of SES's price per e-mail)" if cheap else "cost goal NOT met")
    return 0 if ok and cheap else 1


if __name__ == "__main__":
    sys.exit(main())
