"""`make run`: the whole of notis on this machine, against an embedded AWS, stopped by one Ctrl-C.

One process: a moto server on 127.0.0.1 (or the emulator AWS_ENDPOINT_URL already names), the resources
provisioned from .chalice/resources.json, the app's page on http://127.0.0.1:$PORT (Chalice's local server), pollers
standing in for Lambda's SQS event sources and a scheduler standing in for EventBridge. A state file tells `notis`
commands in other terminals where the stack is (see notis_cli.target).

Content edits under the incidents folder (NOTIS_CONTENT_DIR, else the packaged one) are published while it runs
(notis_cli.local.publish); the embedded AWS's state is kept in local-data/ across restarts (notis_cli.local.state);
staff see one plain line when something happens, the full JSON log goes to local-data/notis.log.

Environment: PORT (8000), MOTO_PORT (a free port), AWS_ENDPOINT_URL (use that emulator, start none),
NOTIS_TICK_SECONDS (5), NOTIS_POLL_WAIT_SECONDS (1, the long-poll wait; also bounds how long Ctrl-C takes),
NOTIS_LOCAL_DATA (local-data/), NOTIS_LOCAL_KEEP (1; 0 starts the embedded AWS empty and keeps nothing),
NOTIS_LOCAL_SEND_BATCH (1 message per sender invocation, see `send_batch_size`), NOTIS_SENDER (else the
incident's organisation).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from notis_cli import target
from notis_cli.private import DIR_MODE, private_dir

REPO_ROOT = target.REPO_ROOT
DEFAULT_REGION = "eu-north-1"
READY = "notis local stack ready in"
DEMO_INCIDENT, DEMO_AUDIENCE = "korkortsportalen-2024", "customers"
log = logging.getLogger("notis-local")


def seconds_since_process_start() -> float | None:
    """From the kernel's record of when this process started (Linux); None elsewhere."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


_IMPORTED_AT = time.monotonic()
_STARTED_AT = _IMPORTED_AT - (seconds_since_process_start() or 0.0)


class StackError(RuntimeError):
    """Something the user can fix (a port in use, another stack running); said in one sentence."""


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 8000
    moto_port: int = 0
    tick_seconds: float = 5.0
    poll_wait_seconds: int = 1
    data_dir: Path = REPO_ROOT / "local-data"
    keep_state: bool = True
    # Messages per sender invocation. Each invocation sends at rate/concurrency, so with Lambda's 10 messages
    # (500 people) the last invocation of a campaign runs alone at half the rate while the other waits: a
    # 1,000-row file went out at about 7/s of 14. One message per invocation keeps both busy to the end.
    send_batch_size: int = 1

    @classmethod
    def from_env(cls) -> Options:
        def number(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            try:
                return float(raw) if raw else default
            except ValueError:
                raise StackError(f"{name} must be a number, got {raw!r}") from None

        return cls(
            port=int(number("PORT", 8000)),
            moto_port=int(number("MOTO_PORT", 0)),
            tick_seconds=max(0.1, number("NOTIS_TICK_SECONDS", 5.0)),
            poll_wait_seconds=max(0, min(20, int(number("NOTIS_POLL_WAIT_SECONDS", 1)))),
            data_dir=Path(os.environ.get("NOTIS_LOCAL_DATA") or REPO_ROOT / "local-data"),
            keep_state=os.environ.get("NOTIS_LOCAL_KEEP", "1").strip() not in ("0", "no", "false"),
            send_batch_size=max(1, min(10, int(number("NOTIS_LOCAL_SEND_BATCH", 1)))),
        )


@dataclass
class Stack:
    options: Options
    stop_event: threading.Event = field(default_factory=threading.Event)
    endpoint: str = ""
    embedded: bool = False
    names: dict[str, Any] = field(default_factory=dict)
    page_url: str = ""
    page_seconds: float = 0.0
    startup_seconds: float = 0.0
    content_root: Path = field(default_factory=Path)
    sender: str = ""
    log_path: Path | None = None
    kept: str = ""  # what happened to the saved AWS state at start, in words
    _moto: Any = None
    _web: Any = None
    _app: Any = None
    _watcher: Any = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _state_written: bool = False

    # -- start ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        running = target.read_state()
        if running and running.get("pid") != os.getpid():
            raise StackError(f"a local stack is already running (pid {running['pid']}, page {running.get('page')}); "
                             "stop it first, or set NOTIS_LOCAL_STATE to run a second one")
        from notis_cli import contract

        contract.install()  # as strict as the test suite: the AWS API reference's limits, not only moto's
        self.log_path = _log_to_file(self.options.data_dir)
        user_sender = os.environ.get("NOTIS_SENDER", "").strip()
        self._aws_environment()
        # The page first: it needs no AWS, only the names the app reads when imported, which the template gives.
        expected_env = _template_environment(self._account(), os.environ["AWS_REGION"])
        os.environ.update(expected_env)
        # Powertools prints EMF metric lines on stdout, which is staff's terminal here and CloudWatch nowhere.
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        self.sender = user_sender or self._organisation_sender()
        os.environ["NOTIS_SENDER"] = self.sender
        app_module = self._app = self._import_app()
        _log_to_file(self.options.data_dir, self.log_path)  # Chalice added a stdout handler to `notis`: take it off
        self._serve(app_module)
        self._check_page()
        self.page_seconds = time.monotonic() - _STARTED_AT
        self._restore_aws_state()
        self._provision()
        os.environ["NOTIS_SENDER"] = self.names["env"]["NOTIS_SENDER"] = self.sender
        from chalicelib.config import load_settings

        app_module.settings = load_settings()  # the names only known once created, and the local sender
        self._watch_content(app_module, fixed_sender=bool(user_sender))
        self._start_event_sources(app_module)
        self.startup_seconds = time.monotonic() - _STARTED_AT
        target.write_state({
            "pid": os.getpid(),
            "endpoint": self.endpoint,
            "embedded": self.embedded,
            "region": self.names["region"],
            "account": self.names["account"],
            "page": self.page_url,
            "env": self.names["env"] | {"NOTIS_CONTENT_DIR": str(self.content_root.resolve())},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
        self._state_written = True

    def _aws_environment(self) -> None:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
        external = os.environ.get("AWS_ENDPOINT_URL", "").strip()
        if external:
            self.endpoint = external.rstrip("/")
            for key, value in target.DUMMY_CREDENTIALS.items():
                os.environ.setdefault(key, value)
            return
        self._moto = _start_moto(self.options.host, self.options.moto_port)
        host, port = self._moto.server_address[:2]
        self.endpoint, self.embedded = f"http://{host}:{port}", True
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        os.environ.pop("AWS_PROFILE", None)  # the embedded AWS takes any credentials: never send real ones
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update(target.DUMMY_CREDENTIALS)

    def _organisation_sender(self) -> str:
        """The first incident's organisation as `Name <contact e-mail>`: local mail looks like the real one."""
        from chalicelib.content.loader import ContentError
        from chalicelib.content.published import content_dir, published_incidents

        self.content_root = content_dir()
        try:
            incidents = published_incidents()
        except ContentError as exc:  # app.py refuses to start with the same list, next
            raise StackError(f"notis cannot start: {exc}") from None
        return _sender_of(incidents) or "Notis <notis@example.org>"

    def _watch_content(self, app_module: Any, *, fixed_sender: bool) -> None:
        from notis_cli.local.publish import ContentWatcher

        def publish(incidents: dict[str, Any]) -> None:
            from chalicelib import web

            app_module.site = web.load_site()  # the routes read the module's `site` on every request
            sender = _sender_of(incidents)
            if not fixed_sender and sender and sender != self.sender:
                self._use_sender(app_module, sender)

        self._watcher = ContentWatcher(self.content_root, publish=publish, say=say)
        interval = min(1.0, self.options.tick_seconds)

        def watch() -> None:
            while not self.stop_event.wait(interval):
                try:
                    self._watcher.check()
                except Exception as exc:  # a half-written file, a folder renamed away: look again next time
                    log.warning("could not read the incidents folder (%s); looking again", type(exc).__name__)

        self._thread(watch, "content-watcher")

    def _use_sender(self, app_module: Any, sender: str) -> None:
        from email.utils import parseaddr

        from chalicelib import aws

        address = parseaddr(sender)[1]
        if self.embedded and address:
            aws.client("ses").verify_email_identity(EmailAddress=address)  # the emulator, as provision does
        self.sender = os.environ["NOTIS_SENDER"] = sender
        app_module.settings = replace(app_module.settings, sender=sender)
        say(f"local mail now comes from {sender}")

    def _restore_aws_state(self) -> None:
        if not self.embedded:
            self.kept = "the AWS state is the emulator's at AWS_ENDPOINT_URL (not kept by this stack)"
            return
        path = self.options.data_dir / "aws-state.pickle"
        if not self.options.keep_state:
            self.kept = "the embedded AWS starts empty; nothing is kept after Ctrl-C (NOTIS_LOCAL_KEEP=0)"
            return
        from notis_cli.local import state

        why_empty = state.load(path)
        if why_empty is None:
            self.kept = f"the embedded AWS continues from the last run ({path}); make clean forgets it"
        else:
            self.kept = (f"the embedded AWS starts empty ({why_empty}); kept in {path} when you stop with Ctrl-C, "
                         "make clean forgets it")

    def _save_aws_state(self) -> None:
        if not (self.embedded and self.options.keep_state and self.names):
            return
        from notis_cli.local import state

        try:
            size = state.save(self.options.data_dir / "aws-state.pickle")
        except Exception as exc:  # never lose the clean stop over it; say so instead
            print(f"notis: could not keep the embedded AWS's state ({type(exc).__name__}); the next start is "
                  "empty", file=sys.stderr, flush=True)
            return
        print(f"kept the embedded AWS's state for the next start ({size / 1e6:.1f} MB in "
              f"{self.options.data_dir})", file=sys.stderr, flush=True)

    def _account(self) -> str:
        if self.embedded:
            from moto.core import DEFAULT_ACCOUNT_ID

            return os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
        from chalicelib import aws

        return str(aws.client("sts").get_caller_identity()["Account"])

    def _provision(self) -> None:
        from chalicelib import aws
        from chalicelib.config import load_settings
        from notis_cli.provision import provision

        aws.reset_clients()
        self.names = provision(session_or_clients=aws.client, settings=load_settings())
        os.environ.update(self.names["env"])  # app.py reads its settings when imported, next

    def _import_app(self) -> Any:
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        try:
            return importlib.import_module("app")
        except SystemExit as exc:  # app.py refuses bad content with a readable list
            raise StackError(str(exc.code)) from None

    def _serve(self, app_module: Any) -> None:
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, create_local_server

        class QuietRequestHandler(ChaliceRequestHandler):
            """Without chalice local's access log on the terminal: a request line can carry a reference code
            (`/verify?code=…`) next to the reader's address, which the deployed page never logs (CloudFront
            and API Gateway keep no access logs)."""

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        config = Config.create(chalice_stage="dev", app_name="notis", lambda_timeout=30, lambda_memory_size=256)
        try:
            self._web = create_local_server(app_module.app, config, self.options.host, self.options.port)
        except OSError as exc:
            raise StackError(f"cannot serve the page on {self.options.host}:{self.options.port} ({exc.strerror}); "
                             "set PORT to a free port, e.g. make run PORT=8001") from None
        self._web.server.RequestHandlerClass = functools.partial(  # socketserver's documented attribute
            QuietRequestHandler, app_object=app_module.app, config=config)
        host, port = self._web.server.server_address[:2]
        self.page_url = f"http://{host}:{port}/"
        self._thread(self._web.server.serve_forever, "web", 0.2)

    def _start_event_sources(self, app_module: Any) -> None:
        from chalice.app import ScheduledEventConfig, SQSEventConfig

        from chalicelib import aws
        from notis_cli.local.pollers import Scheduler, SqsPoller, SqsSource
        from notis_cli.provision import load_template

        resources = load_template().get("Resources", {})
        sqs, region, account = aws.client("sqs"), self.names["region"], self.names["account"]
        jobs = []
        for config in app_module.app.event_sources:
            handler = getattr(app_module, config.handler_string.rsplit(".", 1)[-1])
            timeout = _function_timeout(resources, config.name)
            if isinstance(config, SQSEventConfig):
                url = sqs.get_queue_url(QueueName=config.queue)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                batch = config.batch_size
                if config.queue == self.names["env"].get("NOTIS_SEND_QUEUE"):
                    batch = min(batch, self.options.send_batch_size)
                source = SqsSource(config.name, handler, url, arn, region, account, batch, timeout)
                for n in range(config.maximum_concurrency or 1):
                    poller = SqsPoller(sqs, source, self.stop_event, wait_seconds=self.options.poll_wait_seconds,
                                       name=f"poller-{config.name}-{n}")
                    poller.start()
                    self._threads.append(poller)
            elif isinstance(config, ScheduledEventConfig):
                jobs.append((config.name, handler))
        if jobs:
            watcher = self._watcher
            scheduler = Scheduler(jobs, self.stop_event, interval=self.options.tick_seconds, region=region,
                                  account=account, before_tick=watcher.check if watcher else None,
                                  on_result=_say_tick)
            scheduler.start()
            self._threads.append(scheduler)

    def _check_page(self) -> None:
        with urllib.request.urlopen(self.page_url, timeout=10) as response:  # noqa: S310 - our own http URL
            response.read()

    def _thread(self, fn: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=fn, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- stop ----------------------------------------------------------------------------------------------------

    def stop(self, grace_seconds: float = 5.0) -> list[str]:
        """Stop everything this stack started; return the names of threads that did not finish in time."""
        self.stop_event.set()
        deadline = time.monotonic() + grace_seconds + self.options.poll_wait_seconds
        for thread in self._threads:
            if thread.name != "web":
                thread.join(max(0.0, deadline - time.monotonic()))
        if self._web is not None:
            self._web.server.shutdown()
            self._web.server.server_close()
        self._save_aws_state()  # the pollers and the schedule are done: nothing changes it any more
        if self._moto is not None:
            self._moto.shutdown()
            self._moto.server_close()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._state_written:
            target.remove_state(os.getpid())
        return [t.name for t in self._threads if t.is_alive()]

    # -- say -----------------------------------------------------------------------------------------------------

    def banner(self) -> str:
        bucket = self.names.get("bucket")
        notis = "notis" if _on_path("notis") else ".venv/bin/notis"
        where = "embedded moto server" if self.embedded else "AWS_ENDPOINT_URL, not started here"
        return "\n".join([
            f"{READY} {self.startup_seconds:.2f} s: page served {self.page_seconds:.2f} s after the process "
            "started (goal < 3 s), then AWS resources, pollers and schedule",
            f"  page          {self.page_url}",
            f"  verify        {self.page_url.rstrip('/')}/verify  (type a reference code from `notis outbox`)",
            f"  AWS endpoint  {self.endpoint}  ({where}; region {self.names['region']}, "
            f"account {self.names['account']})",
            f"  bucket        {bucket}",
            f"  schedule      tick every {self.options.tick_seconds:g} s",
            f"  content       {self.content_root}  (edits are published while this runs: save, and watch "
            "for 'published:')",
            f"  mail from     {self.sender}",
            f"  full log      {self.log_path}  (JSON; below, one line when something happens)",
            f"  state         {self.kept}",
            "",
            "Try, in another terminal (notis finds this stack by itself while it runs):",
            f"  {notis} upload demo/kunder.csv --incident {DEMO_INCIDENT} --audience {DEMO_AUDIENCE}",
            f"  {notis} status --watch",
            f"  {notis} outbox",
            f"  {notis} info",
            f"  aws s3 cp demo/kunder.csv s3://{bucket}/uploads/{DEMO_INCIDENT}/{DEMO_AUDIENCE}/kunder.csv "
            f"--endpoint-url {self.endpoint}",
            f"  curl -i {self.page_url}",
            "",
            "Stop with Ctrl-C.",
        ])


def say(text: str) -> None:
    """One line for staff on stdout, with the time: what was published, started, purged or went wrong."""
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def _sender_of(incidents: dict[str, Any]) -> str:
    """`Name <e-mail>` of the first incident's organisation (the standard library quotes a comma, keeps å)."""
    from email.headerregistry import Address

    for slug in sorted(incidents):
        org = incidents[slug].organisation
        if org.contact.email:
            try:
                return str(Address(display_name=org.name, addr_spec=org.contact.email))
            except (ValueError, IndexError):
                continue
    return ""


TICK_WORDS = (
    ("followups_started", "follow-up(s) started"),
    ("updates_started", "update notice(s) started"),
    ("recipients_queued", "recipient(s) queued"),
    ("by_hand", "started by hand"),
    ("failed", "start(s) failed"),
    ("stale", "follow-up(s) overdue and not sent"),
    ("purged", "campaign(s) purged (retention)"),
    ("digest_sent", "digest sent"),
    ("redriven", "message(s) redriven"),
    ("events_replayed", "SES event(s) replayed"),
    ("events_failing", "SES event(s) still failing"),
    ("errors", "error(s), see the full log"),
)


def tick_line(summary: Any) -> str | None:
    """The tick's counts in words, or None when it did nothing worth a line."""
    if not isinstance(summary, dict):
        return None
    parts = [f"{summary[key]} {words}" for key, words in TICK_WORDS if summary.get(key)]
    return f"tick: {', '.join(parts)}" if parts else None


def _say_tick(name: str, result: Any) -> None:
    line = tick_line(result) if name == "tick" else None
    if line:
        say(line)


def _log_to_file(data_dir: Path, path: Path | None = None) -> Path:
    """The app's JSON log (logger `notis`, which every `notis.*` logger and the pollers' detail feed) to a file.

    Set up before app.py is imported, so its `logs.configure` finds this handler and gives it the JSON format
    instead of adding one on stderr. The Powertools logger of the sender (`notis-sender`) goes there too.
    """
    from chalicelib.logs import JsonFormatter

    class Timed(JsonFormatter):
        def format(self, record: logging.LogRecord) -> str:  # the file has no other clock: start with the time
            at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
            return '{"time": "' + at + '", ' + super().format(record)[1:]

    app_log = logging.getLogger("notis")
    existing = [h for h in app_log.handlers if isinstance(h, logging.FileHandler)]
    if path is not None and existing:  # again after app.py's import: keep the file, drop Chalice's stdout handler
        for other in [h for h in app_log.handlers if h is not existing[0]]:
            app_log.removeHandler(other)
        existing[0].setFormatter(Timed())  # logs.configure gave it the plain JSON formatter
        return path
    private_dir(data_dir).chmod(DIR_MODE)  # the saved AWS state holds the uploaded lists and the mail sent
    path = data_dir / "notis.log"
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(Timed())
    for old in list(app_log.handlers):
        app_log.removeHandler(old)
    app_log.addHandler(handler)
    app_log.propagate = False
    # The sender's Powertools logger formats its own handler: give it one on the same file, before the sender
    # creates it with one on stdout (later Logger(service=...) instances reuse the configured logger).
    from aws_lambda_powertools import Logger

    Logger(service="notis-sender", logger_handler=logging.FileHandler(path, mode="a", encoding="utf-8"))
    return path


def _template_environment(account: str, region: str) -> dict[str, str]:
    """The functions' environment as the merge template defines it, resolved without calling AWS."""
    from notis_cli.provision import STACK_NAME, Resolver, _function_environment, load_template

    template = load_template()
    pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws",
              "AWS::StackName": STACK_NAME, "AWS::URLSuffix": "amazonaws.com"}
    return _function_environment(template, Resolver(template, pseudo, {}))


def _function_timeout(resources: dict[str, Any], function: str, default: float = 60.0) -> float:
    """The function's Timeout in the merge template (logical id as Chalice names it), else Chalice's default."""
    logical = "".join(part.capitalize() for part in function.split("_"))
    value = resources.get(logical, {}).get("Properties", {}).get("Timeout", default)
    return float(value) if isinstance(value, int | float) else default


def _start_moto(host: str, port: int) -> Any:
    """moto's server (what ThreadedMotoServer runs), bound here so that a busy port is an error, not a hang."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, DomainDispatcherApplication(create_backend_app), threaded=True,
                             request_handler=MotoRequestHandler)
    except (OSError, SystemExit) as exc:  # werkzeug exits the interpreter when the port is taken
        reason = exc.strerror if isinstance(exc, OSError) else "Address already in use"
        raise StackError(f"cannot start the embedded AWS on {host}:{port} ({reason}); "
                         "set MOTO_PORT to a free port, or leave it unset for any free port") from None
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    return server


def _on_path(program: str) -> bool:
    import shutil

    return shutil.which(program) is not None


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, datefmt="%H:%M:%S",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    _configure_logging()
    try:
        options = Options.from_env()
    except StackError as exc:
        print(f"notis: {exc}", file=sys.stderr)
        return 2
    stack = Stack(options)

    def on_signal(signum: int, _frame: Any) -> None:
        if stack.stop_event.is_set():  # a second Ctrl-C: give up waiting
            target.remove_state(os.getpid())
            os._exit(1)
        stack.stop_event.set()

    try:
        stack.start()
    except StackError as exc:
        stack.stop(grace_seconds=1.0)
        print(f"notis: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stack.stop(grace_seconds=1.0)
        return 130
    except BaseException:
        stack.stop(grace_seconds=1.0)
        raise
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        try:
            print(stack.banner(), flush=True)
        except BrokenPipeError:  # stdout closed (piped into head): keep running, the log still goes to stderr
            sys.stdout = open(os.devnull, "w")  # replaces stdout for the rest of the process
        while not stack.stop_event.wait(0.5):
            pass
        print("\nstopping the local stack ...", file=sys.stderr, flush=True)
    finally:  # whatever happened above: stop every thread, close the ports, remove the state file
        stuck = stack.stop()
    if stuck:
        print(f"notis: abandoned at exit (still busy): {', '.join(stuck)}", file=sys.stderr)
    print("stopped; ports closed.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
