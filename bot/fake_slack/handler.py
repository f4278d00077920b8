"""HTTP layer of the fake: request parsing, fault application, routing and call recording."""

from __future__ import annotations

import json
import logging
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bot.fake_slack.api import HANDLERS, ValidationError, deliver_response, receive_upload
from bot.fake_slack.faults import Faults, Landed, reply_hold
from bot.fake_slack.models import ApiError, Call, Fault
from bot.fake_slack.socket_mode import SocketModeEndpoint
from bot.fake_slack.store import Store, dm_channel_id

log = logging.getLogger(__name__)

JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")
UPLOAD_PSEUDO_METHOD = "upload"
RESPONSE_URL_PSEUDO_METHOD = "response_url"
_DROPPED = Fault(status=503, error="service_unavailable")


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False


def _json_reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(body).encode(), headers=headers or {})


def _text_reply(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), content_type="text/plain; charset=utf-8")


def _fault_reply(fault: Fault) -> Reply:
    headers = dict(fault.extra_headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    reply = _json_reply(fault.status or 200, fault.body(), headers)
    reply.disconnect = fault.disconnect
    return reply


def parse_args(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """Merge query-string and body parameters the way Slack accepts them (JSON or form)."""
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if body:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == "application/json":
            parsed = json.loads(body)
            if not isinstance(parsed, dict):
                raise ApiError("invalid_json")
            args.update(parsed)
        elif media_type.startswith("multipart/"):
            raise ApiError("invalid_form_data", errors=["multipart bodies are not supported by the fake"])
        else:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            args.update({k: v[-1] for k, v in form.items()})
    for name in JSON_FIELDS:
        value = args.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[name] = json.loads(value)
            except ValueError:
                pass  # left as a string so validation reports the bad format
    return args


def _channel_of(args: dict[str, Any]) -> str | None:
    """The channel a call names, a user id standing for the DM with that user (as faults name it)."""
    channel = args.get("channel") or args.get("channel_id")
    if not isinstance(channel, str):
        return None
    return dm_channel_id(channel) if channel[:1] in ("U", "W") else channel


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


class Dispatcher:
    """Turns one parsed request into a Reply, applying faults and recording the call."""

    def __init__(self, store: Store, faults: Faults, socket_mode: SocketModeEndpoint | None = None) -> None:
        self.store = store
        self.faults = faults
        self.socket_mode = socket_mode

    def api(self, method: str, args: dict[str, Any], token: str | None) -> Reply:
        at = time.time()
        fault = self._pre_call_fault(method, wildcard=True, channel=_channel_of(args))
        if fault is not None and not isinstance(fault, Landed):
            reply = _fault_reply(fault)
            self.store.record(Call(method, args, token, fault.status, fault.body(), at))
            return reply
        body, invalid = self._invoke(method, args, token)
        if fault is not None:  # it took effect (users see it); the caller only sees the fault
            self.store.record(Call(method, args, token, fault.status, fault.body(), at), invalid=invalid)
            return _fault_reply(fault)
        status = 500 if body.get("error") == "fatal_error" else 200
        self.store.record(Call(method, args, token, status, body, at), invalid=invalid)
        if self.faults.wait_if_held(reply_hold(method), wildcard=False):
            return _fault_reply(_DROPPED)
        return _json_reply(status, body, self._scopes_header(token))

    def _scopes_header(self, token: str | None) -> dict[str, str]:
        """Slack names the token's granted scopes in every Web API reply (mentorbot doctor reads them)."""
        if not token or token.startswith("xapp-"):
            return {}
        with self.store.lock:
            return {"x-oauth-scopes": ",".join(self.store.granted_scopes)}

    def _pre_call_fault(self, method: str, wildcard: bool, channel: str | None = None) -> Fault | None:
        delay = self.faults.latency(method)
        if delay:
            time.sleep(delay)
        if self.faults.wait_if_held(method, wildcard):
            return _DROPPED
        return self.faults.decide(method, wildcard, channel)

    def _invoke(self, method: str, args: dict[str, Any], token: str | None) -> tuple[dict[str, Any], bool]:
        if method == "apps.connections.open" and self.socket_mode is not None:
            return self.socket_mode.open_connection(token), False  # needs the app-level token itself
        handler = HANDLERS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}, False
        if not token:
            return {"ok": False, "error": "not_authed"}, False
        try:
            return handler(self.store, args), False
        except ValidationError as exc:
            return exc.body(), True
        except ApiError as exc:
            return exc.body(), False
        except Exception:  # a bug in the fake must surface in tests, not hang the client
            detail = traceback.format_exc()
            log.error("fake slack handler %s crashed:\n%s", method, detail)
            with self.store.lock:
                self.store.errors.append(f"{method}: {detail}")
            return {"ok": False, "error": "fatal_error"}, False

    def upload(self, file_id: str, content: bytes) -> Reply:
        fault = self._pre_call_fault(UPLOAD_PSEUDO_METHOD, wildcard=False)
        if fault is not None:
            return _fault_reply(fault)
        return _text_reply(*receive_upload(self.store, file_id, content))

    def response(self, url_id: str, raw: bytes) -> Reply:
        fault = self._pre_call_fault(RESPONSE_URL_PSEUDO_METHOD, wildcard=False)
        if fault is not None:
            return _fault_reply(fault)
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = None
        status, text, problems = deliver_response(self.store, url_id, body)
        if problems:
            response = {"ok": False, "error": text, "errors": problems}
            args = body if isinstance(body, dict) else {"raw": raw.decode("utf-8", "replace")}
            args = {"url_id": url_id, **args}
            call = Call(RESPONSE_URL_PSEUDO_METHOD, args, None, status, response, time.time())
            self.store.record(call, invalid=True)
        return _text_reply(status, text)


class FakeSlackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # held requests must not stall shutdown
    request_queue_size = 512  # the default backlog of 5 drops connections under 16 concurrent clients
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        super().__init__(address, RequestHandler)
        self.dispatcher = dispatcher


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # buffer headers and body into one send; handle_one_request flushes per reply
    disable_nagle_algorithm = True
    server: FakeSlackServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # per-request access logs would drown benchmark output

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        path, _, query = self.path.partition("?")
        body = self._read_body()
        dispatcher = self.server.dispatcher
        if path.startswith("/api/"):
            reply = self._api(dispatcher, path[len("/api/") :], body, query)
        elif path.startswith("/upload/"):
            reply = dispatcher.upload(path[len("/upload/") :], body)
        elif path.startswith("/response/"):
            reply = dispatcher.response(path[len("/response/") :], body)
        else:
            reply = _text_reply(404, "not_found")
        self._send(reply)

    def _api(self, dispatcher: Dispatcher, method: str, body: bytes, query: str) -> Reply:
        try:
            args = parse_args(self.headers.get("Content-Type", ""), body, query)
        except ApiError as exc:
            return _json_reply(200, exc.body())
        except (ValueError, UnicodeDecodeError):
            return _json_reply(200, {"ok": False, "error": "invalid_json"})
        form_token = args.pop("token", None)
        token = bearer_token(self.headers.get("Authorization")) or (str(form_token) if form_token else None)
        return dispatcher.api(method, args, token)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        if reply.disconnect:
            self.close_connection = True  # returning without a response makes the client see a reset
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. a killed bot process)
