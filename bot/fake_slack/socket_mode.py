"""Slack's Socket Mode endpoint on loopback: a real WebSocket server speaking Slack's protocol.

`apps.connections.open` on the Web API fake issues a single-use ticket URL (`open_connection`);
a client connecting with it gets `hello`; `send` pushes an envelope (slash_commands, interactive,
events_api) and the client's ack (`{"envelope_id": ..., "payload": ...}`) is recorded with the
moment it arrived. `disconnect` sends Slack's disconnect message (refresh_requested, warning,
link_disabled) and closes the link later, as Slack does; `fault` breaks a link the ways networks
do: a FIN without a close frame (a proxy's idle timeout), an RST, a bare close frame, or silence
(half-open: nothing is answered, pings included).

The WebSocket protocol is websockets' sans-I/O `ServerProtocol` over plain sockets, so the fake
decides byte by byte what reaches the client — which a ready-made server would not let it break.
Times are `time.monotonic()`; tests in the same process compare them with their own.
"""

from __future__ import annotations

import itertools
import json
import selectors
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
FaultKind = Literal["fin", "rst", "close", "silence"]
DisconnectReason = Literal["refresh_requested", "warning", "link_disabled", "too_many_websockets"]
LinkStatus = Literal["connecting", "open", "disconnecting", "silent", "closed"]
FAULT_KINDS: tuple[FaultKind, ...] = ("fin", "rst", "close", "silence")
TICKET_TTL_SECONDS = 60.0
CLOSE_REPLY_WAIT_SECONDS = 2.0  # how long a server-initiated close waits for the client's close frame
# Interactive payloads whose ack may carry a response (view errors, options); Slack marks only these.
RESPONDING_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class NoConnection(RuntimeError):
    """No Socket Mode client is connected to take the envelope."""


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    at: float
    link: int


@dataclass(frozen=True)
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    link: int
    sent_at: float


@dataclass(frozen=True)
class Link:
    """One WebSocket connection as the endpoint saw it."""

    id: int
    status: LinkStatus
    opened_at: float
    hello_at: float | None = None
    closed_at: float | None = None
    fault: str | None = None  # the fault or disconnect reason that ended it, if any
    fault_at: float | None = None


class _Connection:
    """The server side of one link: its socket, protocol state and reader thread."""

    def __init__(self, endpoint: SocketModeEndpoint, sock: socket.socket, link_id: int) -> None:
        self.endpoint = endpoint
        self.sock = sock
        self.id = link_id
        self.protocol = ServerProtocol(max_size=2**20)
        self.lock = threading.Lock()  # the protocol and the socket's write side
        self.silent = False
        self._commands: list[tuple[str, Any]] = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._closing_since: float | None = None
        self.thread = threading.Thread(target=self._run, name=f"fake-socket-mode-{link_id}", daemon=True)

    # -- called from any thread --------------------------------------------------------------------

    def send_text(self, message: dict[str, Any]) -> bool:
        """Send one JSON text frame; False when the link can no longer carry it."""
        with self.lock:
            if self.silent or self.protocol.state is not State.OPEN:
                return False
            self.protocol.send_text(json.dumps(message).encode())
            return self._flush()

    def command(self, name: str, arg: Any = None) -> None:
        """Run `name` on the reader thread, which owns the socket's lifetime."""
        with self.lock:
            self._commands.append((name, arg))
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # the reader already finished

    # -- reader thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ, "socket")
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while True:
                timeout = None if self._closing_since is None else CLOSE_REPLY_WAIT_SECONDS
                ready = selector.select(timeout)
                if not ready:  # the client never answered our close frame
                    return
                for key, _ in ready:
                    if key.data == "wake" and not self._run_commands():
                        return
                    if key.data == "socket" and not self._receive():
                        return
        except OSError:
            pass  # the client went away mid-frame; the link is closed below either way
        finally:
            selector.close()
            self._close_socket()

    def _receive(self) -> bool:
        data = self._recv()
        if self.silent:
            return bool(data)  # half-open: whatever arrives is lost, nothing goes back
        with self.lock:
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            events = self.protocol.events_received()
            open_ = self._flush() and self.protocol.handshake_exc is None
        for event in events:
            if isinstance(event, Request):
                open_ = open_ and self._answer_handshake(event)
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.endpoint.record_message(self.id, bytes(event.data))
        return bool(data) and open_

    def _answer_handshake(self, request: Request) -> bool:
        url = urlsplit(request.path)
        ticket = parse_qs(url.query).get("ticket", [""])[0]
        with self.lock:
            if url.path.rstrip("/") != "/link" or not self.endpoint.redeem(ticket):
                self.protocol.send_response(self.protocol.reject(401, "invalid or used ticket\n"))
                self._flush()
                return False
            self.protocol.send_response(self.protocol.accept(request))
            if self.endpoint.enabled:
                # Recorded and sent under the lock: no envelope can overtake the hello.
                hello = self.endpoint.hello_message()
                self.endpoint.record_hello(self.id)
                self.protocol.send_text(json.dumps(hello).encode())
            self._flush()
        if not self.endpoint.enabled:
            self.endpoint.record_status(self.id, "disconnecting", fault="link_disabled")
            self.send_text(_disconnect_message("link_disabled"))
            self._start_close(1000, "link_disabled")
        return True

    def _run_commands(self) -> bool:
        self._wake_r.recv(4096)
        with self.lock:
            commands, self._commands = self._commands, []
        for name, arg in commands:
            if name == "stop":
                return False
            if name in ("fin", "rst"):
                self._drop(name)
                return False
            if name == "close":
                self._start_close(*arg)
        return True

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return b""

    def _flush(self) -> bool:
        """Write what the protocol has queued (caller holds the lock); False once it says close TCP."""
        for data in self.protocol.data_to_send():
            if not data:
                return False
            self.sock.sendall(data)
        return True

    def _start_close(self, code: int, reason: str) -> None:
        with self.lock:
            if self.protocol.state is State.OPEN and not self.silent:
                self.protocol.send_close(code, reason)
                self._flush()
        self._closing_since = time.monotonic()

    def _drop(self, kind: str) -> None:
        if kind == "rst":
            # SO_LINGER 0: close() discards unsent data and answers with RST, as a crashed proxy does.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            self.sock.shutdown(socket.SHUT_RDWR)  # FIN, and no WebSocket close frame before it

    def _close_socket(self) -> None:
        for sock in (self.sock, self._wake_r, self._wake_w):
            try:
                sock.close()
            except OSError:
                pass
        self.endpoint.record_status(self.id, "closed")


class SocketModeEndpoint:
    """A local stand-in for Slack's Socket Mode WebSocket service (wss-primary.slack.com/link)."""

    def __init__(self, app_id: str = "A0MENTOR", *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app_id = app_id
        self._address = (host, port)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._tickets: dict[str, float] = {}
        self._refused: dict[str, str] = {}
        self._connections: dict[int, _Connection] = {}
        self._links: dict[int, Link] = {}
        self._acks: list[Ack] = []
        self._envelopes: dict[str, Envelope] = {}
        self._problems: list[str] = []
        self.enabled = True  # False: Socket Mode switched off in the app's settings -> link_disabled
        self.tickets_issued = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> SocketModeEndpoint:
        with self._lock:
            if self._listener is not None:
                return self
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(self._address)
            listener.listen(64)
            self._listener = listener
            self._wake_r, self._wake_w = socket.socketpair()
            self._thread = threading.Thread(target=self._accept_loop, name="fake-socket-mode", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            listener, thread, wake_w = self._listener, self._thread, self._wake_w
            connections = list(self._connections.values())
            self._listener = self._thread = None
        if listener is None:
            return
        if wake_w is not None:
            wake_w.send(b"\0")
        if thread is not None:
            thread.join(timeout=5)
        for connection in connections:
            connection.command("rst")  # a stopped server leaves nothing half-closed behind
        for connection in connections:
            connection.thread.join(timeout=5)
        for sock in (listener, self._wake_r, wake_w):
            if sock is not None:
                sock.close()

    def __enter__(self) -> SocketModeEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        with self._lock:
            if self._listener is None:
                raise RuntimeError("SocketModeEndpoint is not started")
            return int(self._listener.getsockname()[1])

    def _accept_loop(self) -> None:
        listener, wake = self._listener, self._wake_r
        assert listener is not None and wake is not None
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, "listener")
        selector.register(wake, selectors.EVENT_READ, "wake")
        with selector:
            while True:
                for key, _ in selector.select():
                    if key.data == "wake":
                        return
                    sock, _ = listener.accept()
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._open_link(sock)

    def _open_link(self, sock: socket.socket) -> None:
        with self._lock:
            link_id = next(self._ids)
            connection = _Connection(self, sock, link_id)
            self._connections[link_id] = connection
            self._links[link_id] = Link(link_id, "connecting", time.monotonic())
        connection.thread.start()

    # -- apps.connections.open ---------------------------------------------------------------------

    def open_connection(self, token: str | None) -> dict[str, Any]:
        """The body of apps.connections.open: a ticket URL for an app-level token, else Slack's error."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        with self._lock:
            refused = self._refused.get(token)
        if refused is not None:
            return {"ok": False, "error": refused}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        self.start()
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets[ticket] = time.monotonic() + TICKET_TTL_SECONDS
            self.tickets_issued += 1
            self._changed.notify_all()
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"}

    def refuse(self, token: str, error: str = "invalid_auth") -> None:
        """Answer apps.connections.open for `token` with `error` (invalid_auth, account_inactive, ...)."""
        with self._lock:
            self._refused[token] = error

    def redeem(self, ticket: str) -> bool:
        """Tickets are single use and expire, like the ones in Slack's URLs."""
        with self._lock:
            expires = self._tickets.pop(ticket, None)
        return expires is not None and time.monotonic() < expires

    def hello_message(self) -> dict[str, Any]:
        with self._lock:
            count = sum(1 for link in self._links.values() if link.status in ("open", "disconnecting"))
        return {
            "type": "hello",
            "num_connections": count + 1,
            "debug_info": {
                "host": "applink-fake-1",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    # -- what the server does ----------------------------------------------------------------------

    def send(
        self,
        envelope_type: EnvelopeType,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        link: int | None = None,
    ) -> str:
        """Deliver one envelope on `link` (default: the newest open one); returns its envelope_id."""
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type == "slash_commands" or (
                envelope_type == "interactive" and payload.get("type") in RESPONDING_INTERACTIONS
            )
        envelope_id = str(uuid.uuid4())
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            message["retry_attempt"] = retry_attempt or 0
            message["retry_reason"] = retry_reason or ""
        connection = self._route(link)
        with self._lock:  # recorded first: an ack may arrive before send_text returns
            self._envelopes[envelope_id] = Envelope(
                envelope_id, envelope_type, payload, connection.id, time.monotonic()
            )
        if not connection.send_text(message):
            raise NoConnection(f"link {connection.id} can no longer carry envelopes")
        return envelope_id

    def _route(self, link: int | None) -> _Connection:
        with self._lock:
            if link is not None:
                return self._connections[link]
            for wanted in ("open", "disconnecting"):
                candidates = [i for i, known in self._links.items() if known.status == wanted]
                if candidates:
                    return self._connections[max(candidates)]
        raise NoConnection("no Socket Mode client is connected")

    def disconnect(
        self, reason: DisconnectReason, *, close_after: float | None = 1.0, link: int | None = None
    ) -> int:
        """Send Slack's disconnect message; close the link `close_after` seconds later (None: never)."""
        connection = self._route(link)
        self.record_status(connection.id, "disconnecting", fault=reason)
        connection.send_text(_disconnect_message(reason))
        if close_after is not None:
            timer = threading.Timer(close_after, connection.command, ("close", (1000, reason)))
            timer.daemon = True
            timer.start()
        return connection.id

    def fault(self, kind: FaultKind, *, link: int | None = None) -> int:
        """Break a link: fin, rst, close (a close frame, no disconnect message) or silence."""
        connection = self._route(link)
        self.record_status(connection.id, "silent" if kind == "silence" else None, fault=kind)
        if kind == "silence":
            with connection.lock:
                connection.silent = True
        elif kind == "close":
            connection.command("close", (1001, "going away"))
        else:
            connection.command(kind)
        return connection.id

    # -- records (called by connections) -----------------------------------------------------------

    def record_hello(self, link_id: int) -> None:
        self._update(link_id, status="open", hello_at=time.monotonic())

    def record_status(self, link_id: int, status: LinkStatus | None, fault: str | None = None) -> None:
        with self._lock:
            link = self._links[link_id]
            if link.status == "closed":
                return
            changes: dict[str, Any] = {}
            if status is not None:
                changes["status"] = status
            if status == "closed":
                changes["closed_at"] = time.monotonic()
                self._connections.pop(link_id, None)
            if fault is not None and link.fault is None:
                changes.update(fault=fault, fault_at=time.monotonic())
            self._update(link_id, **changes)

    def _update(self, link_id: int, **changes: Any) -> None:
        with self._lock:
            self._links[link_id] = replace(self._links[link_id], **changes)
            self._changed.notify_all()

    def record_message(self, link_id: int, data: bytes) -> None:
        at = time.monotonic()
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        with self._lock:
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            if not isinstance(envelope_id, str) or envelope_id not in self._envelopes:
                self._problems.append(f"link {link_id}: not an ack of a sent envelope: {data[:200]!r}")
            else:
                assert isinstance(message, dict)
                payload = message.get("payload")
                self._acks.append(
                    Ack(envelope_id, payload if isinstance(payload, dict) else None, at, link_id)
                )
            self._changed.notify_all()

    # -- observations ------------------------------------------------------------------------------

    @property
    def links(self) -> list[Link]:
        with self._lock:
            return [self._links[i] for i in sorted(self._links)]

    def link(self, link_id: int) -> Link:
        with self._lock:
            return self._links[link_id]

    @property
    def acks(self) -> list[Ack]:
        with self._lock:
            return list(self._acks)

    def envelope(self, envelope_id: str) -> Envelope:
        with self._lock:
            return self._envelopes[envelope_id]

    @property
    def problems(self) -> list[str]:
        """Messages from clients that were not acks of envelopes we sent; should stay empty."""
        with self._lock:
            return list(self._problems)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        """Block until `condition()` holds, re-checked on every link change and ack (runs under the lock)."""
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise TimeoutError(f"Socket Mode endpoint: {what} not met within {timeout}s")

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        found: list[Ack] = []

        def acked() -> bool:
            found[:] = [ack for ack in self._acks if ack.envelope_id == envelope_id]
            return bool(found)

        self.wait_for(acked, timeout, f"ack of envelope {envelope_id}")
        return found[0]

    def wait_for_hello(self, after: int = 0, timeout: float = 5.0) -> Link:
        """The first link newer than link id `after` that got its hello."""
        found: list[Link] = []

        def greeted() -> bool:
            found[:] = [
                link for i, link in sorted(self._links.items()) if i > after and link.hello_at is not None
            ]
            return bool(found)

        self.wait_for(greeted, timeout, f"a hello on a link after #{after}")
        return found[0]

    def wait_closed(self, link_id: int, timeout: float = 5.0) -> Link:
        self.wait_for(lambda: self._links[link_id].status == "closed", timeout, f"link #{link_id} closed")
        return self.link(link_id)


def _disconnect_message(reason: str) -> dict[str, Any]:
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
