"""programs.yml while the bot runs: re-read when the file changes or on SIGHUP, applied whole or not at all.

Every process that serves or schedules follows the file itself (the `run` process and each HTTP worker
call watch_programs; every tick calls run_due), so all of them converge on the same configuration within
POLL_SECONDS without talking to each other. A valid edit is synced into the programs table first and then
swapped in as one object: a handler sees the old configuration or the new one, never a mix, and never a
program whose row does not exist yet. An invalid edit never replaces a running configuration: it is
logged once as one `file: key.path: reason` line and kept for readiness (last_reload_error) until the
file is valid again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.kernel.logging_setup import log_failure
from bot.kernel.programs import (
    ConfigError,
    ProgramsConfig,
    parse_programs_text,
    read_programs_text,
    summarize,
)
from storage.repositories.programs import ProgramSpec, sync_programs

if TYPE_CHECKING:
    from bot.kernel.deps import Deps

log = logging.getLogger("mentorbot.programs")

POLL_SECONDS = 2.0
# An edit can keep the file's size and mtime (same length, within the filesystem's timestamp granularity;
# `cp -p`; a restored backup), so the text is hashed at least this often even when the stat looks the same.
REHASH_SECONDS = 30.0

Signature = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns

# Where `run` keeps a copy of the programs text it runs, for HTTP workers it spawns (see RunningCopy).
RUNNING_COPY_VARIABLE = "MENTORBOT_PROGRAMS_RUNNING"

# The last reload problem of any file-backed configuration in this process (one, outside tests).
_last_error: str | None = None


class LivePrograms:
    """The running programs configuration, replaced whole when its file changes.

    `path` is the file it follows; None for a configuration handed over in code (tests, the demo), which
    never changes behind its holder's back.
    """

    def __init__(
        self,
        config: ProgramsConfig,
        *,
        path: str | None = None,
        text: str | None = None,
        signature: Signature | None = None,
    ) -> None:
        self._config = config
        self.path = path
        self.text = text  # the running configuration's text, as read from the file
        self.error: str | None = None  # why the file on disk is not the running configuration
        # A follower (an HTTP worker) logs at DEBUG: the `run` process reports the same file once.
        self.quiet = False
        self.copy_to: str | None = None  # kept up to date with the running text (RunningCopy)
        self.wake = threading.Event()  # set by request_reload (SIGHUP) and by ProgramsWatcher.stop
        self._lock = threading.Lock()  # one reload at a time: the watcher thread and the tick both call
        self._digest = _digest(text) if text is not None else None
        self._signature = signature
        self._hashed_at = time.monotonic()
        self._rejected: str | None = None  # the invalid text's digest (or read error) already reported
        self._forced = False

    @property
    def current(self) -> ProgramsConfig:
        return self._config

    def refresh(self, *, apply: Callable[[ProgramsConfig], None], reread: bool = False) -> bool:
        """Take the file's configuration if it changed; True when a new one was swapped in.

        Cheap when nothing changed: one stat, and the text is read and hashed only when the stat differs,
        REHASH_SECONDS have passed, `reread` is set or a reload was requested. `apply` runs before the
        swap (the database sync); when it raises, nothing changes and a later call tries again.
        """
        if self.path is None:
            return False
        with self._lock:
            forced, self._forced = self._forced, False
            if forced:
                self._rejected = None  # an operator asked: report a still-invalid file again
            signature = _signature(self.path)
            stale = time.monotonic() - self._hashed_at >= REHASH_SECONDS
            if not (forced or reread or stale or signature != self._signature):
                return False
            self._signature, self._hashed_at = signature, time.monotonic()
            return self._take(self.path, forced=forced, apply=apply)

    def _take(self, path: str, *, forced: bool, apply: Callable[[ProgramsConfig], None]) -> bool:
        try:
            text = read_programs_text(path)
        except ConfigError as exc:
            self._reject(exc, key=None)
            return False
        digest = _digest(text)
        if digest == self._digest:  # the running text: unchanged, or an invalid edit undone
            undone = self.error is not None
            self._accept(digest)
            if forced or undone:
                self._log(logging.INFO, "%s: as running: %s", path, summarize(self._config))
            return False
        if digest == self._rejected:
            return False
        try:
            config = parse_programs_text(text, source=path)
        except ConfigError as exc:
            self._reject(exc, key=digest)
            return False
        apply(config)
        self._config = config  # one reference store: readers on other threads see old or new, whole
        self.text = text
        self._accept(digest)
        if self.copy_to is not None:
            _write_replacing(self.copy_to, text)
        self._log(logging.INFO, "%s: reloaded: %s", path, summarize(config))
        return True

    def _reject(self, exc: ConfigError, *, key: str | None) -> None:
        """Keep the running configuration; log the problem once per distinct file text (or read error)."""
        global _last_error
        line = exc.one_line()
        key = key or line
        if key != self._rejected:
            self._log(logging.ERROR, "%s (kept the running configuration)", line)
        self._rejected = key
        self.error = _last_error = line

    def _accept(self, digest: str) -> None:
        global _last_error
        if self.error is not None and _last_error == self.error:
            _last_error = None
        self._digest, self._rejected, self.error = digest, None, None

    def _log(self, level: int, message: str, *args: object) -> None:
        log.log(logging.DEBUG if self.quiet else level, message, *args)

    def request(self) -> None:
        """Reload at the next refresh even if the file looks unchanged; safe inside a signal handler."""
        self._forced = True
        self.wake.set()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _signature(path: str) -> Signature | None:
    try:
        found = os.stat(path)
    except OSError:
        return None  # missing for a moment (an editor's rename) or unreadable: reading reports it
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def open_programs(path: str | os.PathLike[str], *, follower: bool = False) -> LivePrograms:
    """Load the programs file at start, following it from then on; raises ConfigError when invalid.

    A follower (an HTTP worker, started or respawned while the file holds an invalid edit) starts from
    the text its `run` process is running instead, and reports the file's problem like any later edit.
    """
    source = os.fspath(path)
    signature = _signature(source)  # before reading: a write in between shows in the next poll's stat
    try:
        text = read_programs_text(source)
        config = parse_programs_text(text, source=source)
    except ConfigError:
        running = os.environ.get(RUNNING_COPY_VARIABLE) if follower else None
        if not running or not os.path.exists(running):
            raise
        text, signature = read_programs_text(running), None  # None: the first poll reads the file
        config = parse_programs_text(text, source=source)
    return LivePrograms(config, path=source, text=text, signature=signature)


class RunningCopy:
    """The running programs text in a private temporary file named by RUNNING_COPY_VARIABLE.

    HTTP workers inherit the variable; one (re)spawned while programs.yml holds an invalid edit starts
    from this copy instead of failing, which would stop the bot (granian gives up on a crash loop).
    """

    def __init__(self, deps: Deps) -> None:
        live = deps.programs_live
        handle, self.path = tempfile.mkstemp(prefix="mentorbot-programs-", suffix=".yml")  # mode 0600
        os.close(handle)
        if live.text is not None:
            _write_replacing(self.path, live.text)
            live.copy_to = self.path
        os.environ[RUNNING_COPY_VARIABLE] = self.path

    def remove(self) -> None:
        os.environ.pop(RUNNING_COPY_VARIABLE, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _write_replacing(path: str, text: str) -> None:
    """Write `text` to `path` through a rename, so a worker starting meanwhile reads old or new, whole."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".mentorbot-programs-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def refresh_programs(deps: Deps, *, reread: bool = False) -> bool:
    """Apply programs.yml to this process if it changed: sync the programs table, then swap it in."""
    return deps.programs_live.refresh(
        apply=lambda config: sync_program_rows(deps.sessions, config, now=deps.clock()), reread=reread
    )


def run_due(deps: Deps, now: datetime) -> list[str]:
    """The tick's first job, so that an edit's new programs and times count in the same tick.

    The reload logs its own line (an edit is reported once, whichever of tick or watcher saw it first).
    """
    refresh_programs(deps, reread=True)
    return []


def request_reload(deps: Deps) -> None:
    """SIGHUP: re-read the file now (the watcher thread wakes), reporting it even when unchanged."""
    deps.programs_live.request()


def last_reload_error(deps: Deps | None = None) -> str | None:
    """Why the programs file on disk is not running (one `file: key.path: reason` line), or None.

    For readiness: with `deps`, that configuration's; without, this process's file-backed one.
    """
    return deps.programs_live.error if deps is not None else _last_error


def sync_program_rows(sessions: sessionmaker[Session], config: ProgramsConfig, *, now: datetime) -> None:
    """Add, update and archive program rows to match `config`, in one unit of work.

    Every process syncs before it swaps a configuration in. When two add the same program at once, the
    loser's insert fails on the primary key and its second pass finds the row.
    """
    specs = [ProgramSpec(id=p.id, name=p.name, timezone=p.timezone) for p in config.programs]
    try:
        with sessions.begin() as session:
            sync_programs(session, specs=specs, now=now)
    except IntegrityError:
        with sessions.begin() as session:
            sync_programs(session, specs=specs, now=now)


class ProgramsWatcher:
    """A daemon thread polling the programs file every `every` seconds (and at once on request_reload)."""

    def __init__(self, deps: Deps, *, every: float = POLL_SECONDS) -> None:
        self._deps, self._every = deps, every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mentorbot-programs", daemon=True)

    def start(self) -> ProgramsWatcher:
        if self._deps.programs_live.path is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._deps.programs_live.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        live = self._deps.programs_live
        while not self._stopping.is_set():
            live.wake.wait(self._every)
            live.wake.clear()
            if self._stopping.is_set():
                return
            try:
                refresh_programs(self._deps)
            except Exception:  # the database refused the sync: the next poll after REHASH_SECONDS retries
                log_failure(log, "%s: reload failed; kept the running configuration", live.path)


def watch_programs(deps: Deps, *, every: float = POLL_SECONDS, quiet: bool = False) -> ProgramsWatcher:
    """Follow programs.yml in this process until the returned watcher is stopped.

    quiet: this process follows another that reports the same file (an HTTP worker under `run`).
    """
    deps.programs_live.quiet = quiet
    return ProgramsWatcher(deps, every=every).start()
