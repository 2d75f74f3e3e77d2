"""Publishing content edits on the local stack without a restart (a deployed Lambda's content is fixed).

The watcher compares the incidents folder's file names, sizes and modification times on each look (cheap: a few
stat calls). When they change it loads and checks the content as `notis check-content` does; valid content is
swapped in for the page, the import, the sender and the tick (chalicelib.content.published.republish) and said in
one line ("published: korkortsportalen-2024 (update u-4 added)"); invalid content is not published: the last
valid content stays in use and the problems are listed once per edit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from chalicelib.content.model import Incident

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Fingerprint:
    """(relative path, size, mtime in ns) of every file under `root`; a vanished file between calls is skipped."""
    entries = []
    try:
        paths = sorted(p for p in root.rglob("*")
                       if not any(part.startswith(".") for part in p.relative_to(root).parts))
    except OSError:
        return ()
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            entries.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def describe_changes(old: dict[str, Incident], new: dict[str, Incident]) -> list[str]:
    """One phrase per incident that changed, in words staff use: "korkortsportalen-2024 (update u-4 added)"."""
    lines = []
    for slug in sorted(set(old) | set(new)):
        before, after = old.get(slug), new.get(slug)
        if before is None:
            lines.append(f"{slug} (new incident)")
            continue
        if after is None:
            lines.append(f"{slug} (removed)")
            continue
        if before == after:
            continue
        what = []
        old_updates = {u.id: u for u in before.updates}
        new_updates = {u.id: u for u in after.updates}
        added = [u for u in new_updates if u not in old_updates]
        removed = [u for u in old_updates if u not in new_updates]
        edited = [u for u in new_updates if u in old_updates and new_updates[u] != old_updates[u]]
        for ids, verb in ((added, "added"), (edited, "edited"), (removed, "removed")):
            if ids:
                what.append(f"update{'s' if len(ids) > 1 else ''} {', '.join(ids)} {verb}")
        if before.faq != after.faq:
            what.append("FAQ changed")
        if before.status != after.status:
            what.append(f"status {after.status}")
        if not what:
            what.append("texts changed")
        lines.append(f"{slug} ({'; '.join(what)})")
    return lines


class ContentWatcher:
    """Looks at the folder when asked (`check`, thread-safe); publishes valid edits, reports invalid ones once."""

    def __init__(self, root: Path, *, publish: Callable[[dict[str, Incident]], None],
                 say: Callable[[str], None]) -> None:
        self.root, self.publish, self.say = root, publish, say
        self._seen = fingerprint(root)
        self._lock = threading.Lock()
        self.published = 0

    def check(self) -> bool:
        """Publish the folder's content if it changed and is valid; True when something was published."""
        if not self._lock.acquire(blocking=False):  # another thread is already looking
            return False
        try:
            now = fingerprint(self.root)
            if now == self._seen:
                return False
            self._seen = now
            return self._load()
        finally:
            self._lock.release()

    def _load(self) -> bool:
        from chalicelib.content.loader import ContentError, load_incidents
        from chalicelib.content.published import incidents_in, republish

        try:
            loaded = {i.slug: i for i in load_incidents(self.root)}
        except ContentError as exc:
            self.say(f"not published: {exc}\n  the page and the mailer keep the last valid content; "
                     "fix the file and save it again (notis check-content shows the same list)")
            return False
        from chalicelib.mail import template_problems

        problems = [f"  - {i.slug}: {p}" for i in loaded.values() for p in template_problems(i)]
        if problems:
            self.say(f"not published: incident e-mails have {len(problems)} problem(s):\n" + "\n".join(problems)
                     + "\n  the page and the mailer keep the last valid content")
            return False
        try:
            before = incidents_in(self.root)
        except ContentError:  # the stack started on content that later became unreadable: nothing to compare
            before = {}
        changes = describe_changes(before, loaded)
        if not changes:
            return False
        republish(self.root, loaded)
        self.publish(loaded)
        self.published += 1
        self.say(f"published: {', '.join(changes)}")
        return True
