"""`notis status [CAMPAIGN] [--watch]`: campaigns, or one campaign's progress, DLQ depth, rate and time left.

Counts come from the ledger (the truth), never an address: the view is safe to paste into a ticket.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from notis_cli.commands._common import local_warning
from notis_cli.commands._sendview import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="list campaigns, or show one campaign's sending progress")
    p.add_argument("campaign", nargs="?",
                   help="campaign id (c + 20 hex digits, or its first 5 or more); omit to list campaigns")
    p.add_argument("--watch", action="store_true",
                   help="keep a live progress bar until done (Ctrl-C stops); without CAMPAIGN, the newest one")
    p.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    ctx = Context()
    if not args.campaign and args.watch:
        latest = ctx.campaigns.list()[-1:]  # listed oldest first: watch the newest upload
        if not latest:
            print("no campaigns yet: upload a file with notis upload", file=sys.stderr)
            return 1
        args.campaign = str(latest[0]["campaign"])
        print(f"watching the newest campaign, {args.campaign}", file=sys.stderr)
    if not args.campaign:
        return _list(ctx)
    if ctx.campaign(args.campaign) is None:
        return 1
    if not args.watch:
        print(render(ctx, args.campaign))
        return 0
    return watch(ctx, args.campaign, interval=args.interval)


def _list(ctx: Context) -> int:
    campaigns = ctx.campaigns.list()
    if not campaigns:
        print("no campaigns yet")
        return 0
    from chalicelib.sending.status import progress_hint

    print(f"{'campaign':23} {'state':9} {'incident':28} {'audience':12} {'deliverable':>11} {'sent':>7} {'letters':>7}"
          f" {'posted':>6}  file (S3 key)")
    for item in campaigns:
        counts = item.get("counts") or {}
        cid = str(item.get("campaign") or str(item.get("pk", "")).removeprefix("campaign#"))
        incident, audience = target_of(item)
        posted = letters_posted(ctx, item).get(first_send_id(item), 0)  # the first notice's letters posted
        print(
            f"{cid:23} {progress_hint(item):9} {incident[:28]:28} "
            f"{audience[:12]:12} {int(counts.get('deliverable', 0)):>11} "
            f"{int(item.get('sent', 0)):>7} {int(counts.get('letters', 0)) + int(item.get('mail_letters', 0)):>7}"
            f" {posted:>6}  {item.get('key', '?')}"
        )
    warning = local_warning()
    if warning:
        print(f"\nnote: {warning}")
    return 0


def target_of(item: dict[str, Any]) -> tuple[str, str]:
    """Incident and audience: from the record, else from the upload's key (a failed import never set them)."""
    incident, audience = str(item.get("incident") or ""), str(item.get("audience") or "")
    if not (incident and audience):
        from chalicelib.campaigns.uploads import BadKey, parse_key

        try:
            from_key = parse_key(str(item.get("key", "")))
        except BadKey:
            from_key = ("?", "?")
        incident, audience = incident or from_key[0], audience or from_key[1]
    return incident, audience


def snapshot(ctx: Context, campaign_id: str) -> Any:
    from chalicelib.sending.status import send_status

    item = ctx.campaigns.get(campaign_id) or {}
    return send_status(
        item, ctx.entries(item), now=time.time(), configured_rate=ctx.settings.max_send_rate,
        earlier=ctx.earlier(item),
    )


def render(ctx: Context, campaign_id: str) -> str:
    s = snapshot(ctx, campaign_id)
    item = ctx.campaigns.get(campaign_id) or {}
    dlq = ctx.dlq_depth()
    waiting = {"held": "not queued: held until approved", "failed": "not queued: the import failed",
               "importing": "not queued yet: importing", "approved": "not queued yet: approved, importing",
               "stopped": "not queued: sending stopped"}
    incident, audience = target_of(item)
    key = str(item.get("key", ""))
    lines = [
        f"campaign   {s.campaign}  ({incident} / {audience}, {s.progress or 'unknown state'})",
        f"file       {key.rsplit('/', 1)[-1] or '?'}  (s3://{item.get('bucket', ctx.settings.bucket)}/{key})",
        f"recipients {s.recipients}",
        (f"queued     {s.queued}    in flight {s.in_flight}" if s.state not in waiting
         else f"queued     0    ({waiting[s.state]})"),
        f"sent       {s.sent}    delivered {s.delivered}    bounced {s.bounced}    complained {s.complained}",
        f"failed     {s.failed}    suppressed {s.suppressed}    letters {s.letters}",
    ]
    if s.state == "stopped":
        reason, at = item.get("stop_reason") or "no reason recorded", item.get("stopped_at", "?")
        lines.insert(2, f"stopped: {reason} (at {at}). Nobody was marked failed for it. "
                        f"Fix the cause, then: notis resume {s.campaign}")
    done_by = {"approve": "approved", "resume": "resume asked", "retry": "retry asked"}
    lines[2:2] = [f"{done_by.get(str(a.get('action')), str(a.get('action'))):<10} by {a.get('by', '?')} "
                  f"at {a.get('at', '?')}" for a in item.get("staff_actions") or [] if isinstance(a, dict)]
    if s.already_notified or s.expired:
        earlier = ", ".join(f"{c} {n}" for c, n in sorted(s.by_earlier.items()))
        lines.append(f"not mailed already notified {s.already_notified}    too late {s.expired}"
                     + (f"    (settled by an earlier campaign: {earlier})" if earlier else ""))
    lines += [
        f"rate       {s.rate:.1f}/s over the last minute (configured {ctx.settings.max_send_rate:g}/s)    time left "
        f"{'done' if s.done else time_left(s)}",
        f"send DLQ   {'unknown' if dlq is None else dlq} message(s) (all campaigns; notis redrive {s.campaign})",
    ]
    by_letter = letters_posted(ctx, item)
    if line := by_letter_line(ctx, item, s, by_letter):
        lines.append(line)
    for f in ctx.scheduled(item, time.time()):
        posted = f", notified by letter {by_letter[f.send_id]}" if f.send_id in by_letter else ""
        lines.append(f"{f.marker:<10} {f.send_id}: {f.summary()}{posted}")
    warning = local_warning()
    if warning:
        lines.append(f"note       {warning}")
    return "\n".join(lines[:1] + import_report(item, ctx.settings.bucket) + lines[1:])


def first_send_id(item: dict[str, Any]) -> str:
    """The send id of the campaign's first notice (in the record once the notice is queued)."""
    incident, audience = target_of(item)
    return str(item.get("send_id") or f"{incident}.{audience}.notice")


def letters_posted(ctx: Context, item: dict[str, Any]) -> dict[str, int]:
    """People notified by letter per send id, from the batches `notis letters --mark-posted` recorded."""
    from chalicelib.campaigns.posted import PostedLetters
    from chalicelib.sending.status import notified_by_letter

    return notified_by_letter(PostedLetters(ctx.ddb, ctx.settings.table).load(str(item.get("campaign", ""))))


def by_letter_line(ctx: Context, item: dict[str, Any], s: Any, by_letter: dict[str, int]) -> str:
    """The first notice's letters: posted with this campaign, posted with an earlier one of the same send (not
    to be posted again), and how to post the rest while anyone on the list is left."""
    from chalicelib.campaigns.posted import PostedLetters
    from chalicelib.sending.status import letters_earlier

    first = first_send_id(item)
    before = letters_earlier(PostedLetters(ctx.ddb, ctx.settings.table).load_earlier(s.campaign)).get(first, {})
    if not (s.letters or first in by_letter or before):
        return ""
    told, told_before = by_letter.get(first, 0), sum(e["people"] for e in before.values())
    line = f"by letter  {told} notified"
    if before:
        line += "; " + ", ".join(f"{e['people']} already notified by letter with campaign {c} (posted "
                                 f"{e['posted_on']})" for c, e in sorted(before.items())) + ": not posted again"
    unreachable = int((item.get("counts") or {}).get("no_postal_address", 0))
    if s.letters - unreachable - told - told_before > 0:
        line += f"    (notis letters {s.campaign} --pdf FILE, then --mark-posted"
        if not before and (others := _posted_with_others(ctx, first, s.campaign)):
            line += f"; it leaves out households already posted with campaign {', '.join(others)}"
        line += ")"
    return line


def _posted_with_others(ctx: Context, send_id: str, campaign: str) -> list[str]:
    """Other campaigns that posted letters of this send (the send's household index): `notis letters` has not
    yet compared this campaign's list with them."""
    from chalicelib.campaigns.lettercodes import LetterCodes

    known = LetterCodes(ctx.ddb, ctx.settings.table).of_send(send_id, now=time.time()).values()
    return sorted({letter.posted_with for letter in known if letter.posted and letter.posted_with != campaign})


def time_left(s: Any) -> str:
    """An estimate, said as one: at the configured rate until enough sends were seen to measure it."""
    from chalicelib.sending.status import format_duration

    if s.time_left is None:
        return "unknown"
    basis = "" if s.rate_source == "measured" else " at the configured rate"
    return f"about {format_duration(s.time_left)}{basis}"


def import_report(item: dict[str, Any], bucket: str) -> list[str]:
    """What the import found (counts, the first bad rows by line, why it is held or refused): no personal data."""
    from chalicelib.sending.status import rows_in_words

    counts = item.get("counts") or {}
    lines = []
    if counts:
        lines.append("import     " + rows_in_words(*(int(counts.get(k, 0)) for k in (
            "rows", "deliverable", "duplicates", "letters", "rejected", "warnings"))))
        if counts.get("no_postal_address"):
            lines.append(f"           {counts['no_postal_address']} of them need a letter but have no usable postal "
                         "address: find them another way (report: kind 'no letter address')")
    if item.get("error") and item.get("state") in ("held", "failed"):  # kept in the record; stale once it moved on
        lines.append(f"           {item['error']}")
    for problem in item.get("first_problems") or []:
        column = f" ({problem['column']})" if problem.get("column") else ""
        lines.append(f"  line {problem.get('line')}{column}: {problem.get('reason')}")
    if counts or item.get("error"):
        lines.append(f"report     s3://{bucket}/reports/{item.get('campaign', '')}/rows.csv")
    return lines


def bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def watch(ctx: Context, campaign_id: str, *, interval: float, out: Any = None) -> int:
    """Redraw one progress line until nothing is queued or in flight; Ctrl-C ends it quietly."""
    out = out or sys.stdout
    tty = out.isatty()
    try:
        while True:
            s = snapshot(ctx, campaign_id)
            line = (
                f"{bar(s.settled, s.recipients)}  {s.progress}  {s.rate:.1f}/s  left {time_left(s)}"
                f"  failed {s.failed}  letters {s.letters}"
            )
            out.write(("\r" + line + "\x1b[K") if tty else line + "\n")
            out.flush()
            if s.done or s.state in ("held", "failed", "stopped"):  # nothing moves until staff act: say why
                out.write("\n" if tty else "")
                print(render(ctx, campaign_id), file=out)
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        out.write("\n")
        print("stopped watching; the sending goes on (notis status shows it again)", file=sys.stderr)
        return 130
