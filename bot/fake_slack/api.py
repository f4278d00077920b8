"""Web API method handlers: each takes the store and decoded args and returns the JSON body.

Handlers validate their input before taking the store lock, so Block Kit checks of concurrent
requests do not serialise behind one another more than the GIL already forces.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
from collections.abc import Callable
from datetime import UTC, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.fake_slack import validation
from bot.fake_slack.models import ApiError, FakeUser, Upload
from bot.fake_slack.store import Channel, Store, dm_channel_id, ts_to_micros

Handler = Callable[[Store, dict[str, Any]], dict[str, Any]]
HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999


class ValidationError(ApiError):
    """An ApiError caused by a payload Slack would reject; such calls land in FakeSlack.invalid."""

    def __init__(self, error: str, problems: list[str] | None = None) -> None:
        problems = problems or [error]
        super().__init__(error, errors=problems, response_metadata={"messages": problems})


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1")) or value == 1


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_arguments", errors=[f"not an integer: {value!r}"]) from exc


def _text(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    return None if value is None else str(value)


# -- messages ------------------------------------------------------------------------------------


def _message_content(args: dict[str, Any]) -> dict[str, Any]:
    """Validate text/blocks/metadata the way chat.* methods do; returns the fields to store."""
    content: dict[str, Any] = {}
    text = _text(args, "text")
    blocks = args.get("blocks")
    if not text and not blocks and not args.get("attachments"):
        raise ValidationError("no_text")
    if text is not None:
        if len(text) > validation.MAX_TEXT_CHARS:
            raise ValidationError("msg_too_long", [f"text exceeds {validation.MAX_TEXT_CHARS} characters"])
        content["text"] = text
    if blocks is not None:
        if not isinstance(blocks, list):
            raise ValidationError("invalid_blocks_format", ["blocks must be a JSON array"])
        problems = validation.validate_blocks(blocks)
        if problems:
            raise ValidationError("invalid_blocks", problems)
        content["blocks"] = blocks
    if args.get("attachments") is not None:
        content["attachments"] = args["attachments"]
    metadata = args.get("metadata")
    if metadata is not None:
        problems = validation.validate_metadata(metadata)
        if problems:
            raise ValidationError("invalid_metadata_format", problems)
        content["metadata"] = metadata
    return content


def _bot_message(store: Store, ts: str, content: dict[str, Any]) -> dict[str, Any]:
    message = {
        "type": "message",
        "user": store.bot_user_id,
        "bot_id": store.bot_id,
        "team": store.team_id,
        "ts": ts,
        "text": "",
    }
    message.update(content)
    return message


def chat_post_message(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    content = _message_content(args)
    thread_ts = _text(args, "thread_ts")
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=True)
        store.require_member(channel)
        micros, ts = store.next_ts()
        message = _bot_message(store, ts, content)
        if thread_ts:
            message["thread_ts"] = thread_ts
        channel.append(micros, message)
    return {"ok": True, "channel": channel.id, "ts": ts, "message": dict(message)}


def chat_update(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    content = _message_content(args)
    ts = _text(args, "ts")
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=False)
        current = channel.by_ts.get(ts or "")
        if current is None:
            raise ApiError("message_not_found")
        # Slack keeps fields the update leaves out, so merge rather than replace.
        updated = {**current, **content, "edited": {"user": store.bot_user_id, "ts": store.next_ts()[1]}}
        channel.by_ts[current["ts"]] = updated
    return {
        "ok": True,
        "channel": channel.id,
        "ts": updated["ts"],
        "text": updated["text"],
        "message": dict(updated),
    }


def chat_post_ephemeral(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    content = _message_content(args)
    user_id = args.get("user")
    with store.lock:
        if not isinstance(user_id, str) or user_id not in store.users:
            raise ApiError("user_not_in_channel")
        channel = store.resolve_channel(args.get("channel"), create=True)
        ts = store.next_ts()[1]
        store.ephemerals.append({"channel": channel.id, "user": user_id, "message_ts": ts, **content})
    return {"ok": True, "message_ts": ts}


def chat_delete(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    ts = _text(args, "ts") or ""
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=False)
        if ts not in channel.by_ts:
            raise ApiError("message_not_found")
        channel.remove(ts)
    return {"ok": True, "channel": channel.id, "ts": ts}


def chat_get_permalink(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    ts = _text(args, "message_ts") or ""
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=False)
        if ts not in channel.by_ts:
            raise ApiError("message_not_found")
    link = f"https://{store.team_domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
    return {"ok": True, "channel": channel.id, "permalink": link}


# -- conversations -------------------------------------------------------------------------------


def conversations_open(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    with store.lock:
        if not users:
            if args.get("channel"):
                return {"ok": True, "channel": {"id": store.resolve_channel(args["channel"], False).id}}
            raise ApiError("users_list_not_supplied")
        for user_id in users:
            store.user(user_id)
        if len(users) == 1:
            channel_id = dm_channel_id(users[0])
        else:
            channel_id = "G" + hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:10].upper()
        already_open = channel_id in store.channels
        store.ensure_channel(channel_id)
    return {"ok": True, "no_op": already_open, "already_open": already_open, "channel": {"id": channel_id}}


def conversations_info(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=False)
        is_member = channel.id not in store.channels_without_bot
    info: dict[str, Any] = {
        "id": channel.id,
        "name": channel.name,
        "is_im": channel.id.startswith("D"),
        "is_channel": channel.id.startswith("C"),
        "is_mpim": channel.id.startswith("G"),
        "is_member": is_member,
    }
    if channel.id.startswith("D"):
        info["user"] = channel.id[1:]
    return {"ok": True, "channel": info}


def _history_bounds(channel: Channel, args: dict[str, Any]) -> tuple[int, int]:
    inclusive = _flag(args.get("inclusive"))
    try:
        oldest = ts_to_micros(args.get("oldest") or "0")
        latest = ts_to_micros(args["latest"]) if args.get("latest") else None
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_ts_oldest") from exc
    micros = channel.micros
    low = bisect.bisect_left(micros, oldest) if inclusive else bisect.bisect_right(micros, oldest)
    if latest is None:
        high = len(micros)
    else:
        high = bisect.bisect_right(micros, latest) if inclusive else bisect.bisect_left(micros, latest)
    cursor = args.get("cursor")
    if cursor:
        high = min(high, bisect.bisect_left(micros, _decode_cursor(str(cursor))))
    return low, high


def _encode_cursor(micros: int) -> str:
    return base64.b64encode(f"next_ts:{micros}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        prefix, _, value = base64.b64decode(cursor).decode().partition(":")
        if prefix != "next_ts":
            raise ValueError(prefix)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError("invalid_cursor") from exc


def _is_top_level(message: dict[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return thread_ts is None or thread_ts == message["ts"]


def _as_listed(message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
    listed = dict(message)
    if not include_metadata:
        listed.pop("metadata", None)
    return listed


def conversations_history(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    limit = min(max(_int(args.get("limit"), HISTORY_DEFAULT_LIMIT), 1), HISTORY_MAX_LIMIT)
    include_metadata = _flag(args.get("include_all_metadata"))
    messages: list[dict[str, Any]] = []
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=False)
        store.require_member(channel)
        low, index = _history_bounds(channel, args)
        # Walk newest to oldest inside the bisected window: cost is O(log n + page size).
        while index > low and len(messages) < limit:
            index -= 1
            message = channel.by_ts[channel.order[index]]
            if _is_top_level(message):
                messages.append(_as_listed(message, include_metadata))
        has_more = index > low
        next_cursor = _encode_cursor(channel.micros[index]) if has_more else ""
    return {
        "ok": True,
        "messages": messages,
        "has_more": has_more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_replies(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    parent_ts = _text(args, "ts") or ""
    include_metadata = _flag(args.get("include_all_metadata"))
    with store.lock:
        channel = store.resolve_channel(args.get("channel"), create=False)
        if parent_ts not in channel.by_ts:
            raise ApiError("thread_not_found")
        thread = [
            _as_listed(message, include_metadata)
            for message in channel.by_ts.values()
            if message["ts"] == parent_ts or message.get("thread_ts") == parent_ts
        ]
    thread.sort(key=lambda message: ts_to_micros(message["ts"]))
    return {"ok": True, "messages": thread, "has_more": False, "response_metadata": {"next_cursor": ""}}


# -- users ---------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def user_object(store: Store, user: FakeUser) -> dict[str, Any]:
    local = store.now().astimezone(_zone(user.tz))
    offset = local.utcoffset()
    profile: dict[str, Any] = {
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
    }
    if user.email:
        profile["email"] = user.email
    return {
        "id": user.id,
        "team_id": store.team_id,
        "name": user.name,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": local.tzname() or user.tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "deleted": user.deleted,
        "is_bot": user.is_bot,
        "is_admin": False,
        "is_app_user": False,
        "profile": profile,
    }


def users_info(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        user = store.user(args.get("user"))
    return {"ok": True, "user": user_object(store, user)}


def users_lookup_by_email(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    email = str(args.get("email") or "").lower()
    with store.lock:
        user_id = store.user_ids_by_email.get(email)
        if user_id is None:
            raise ApiError("users_not_found")
        user = store.users[user_id]
    return {"ok": True, "user": user_object(store, user)}


def users_list(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        users = list(store.users.values())
    members = [user_object(store, user) for user in users]
    return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}


def dnd_info(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user") or store.bot_user_id
    with store.lock:
        until = None if user_id == store.bot_user_id else store.user(user_id).dnd_snooze_until
        now = store.now()
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    snoozed = until is not None and until > now
    body: dict[str, Any] = {
        "ok": True,
        "dnd_enabled": snoozed,
        "next_dnd_start_ts": 1,
        "next_dnd_end_ts": 1,
        "snooze_enabled": snoozed,
        "snooze_endtime": int(until.timestamp()) if snoozed and until is not None else 0,
    }
    if snoozed and until is not None:
        body["snooze_remaining"] = int((until - now).total_seconds())
    return body


# -- auth ----------------------------------------------------------------------------------------


def auth_test(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "url": f"https://{store.team_domain}.slack.com/",
        "team": store.team_domain,
        "user": "mentorbot",
        "team_id": store.team_id,
        "user_id": store.bot_user_id,
        "bot_id": store.bot_id,
        "is_enterprise_install": False,
    }


def api_test(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "args": {k: v for k, v in args.items() if isinstance(v, str)}}


# -- views ---------------------------------------------------------------------------------------


def _checked_view(args: dict[str, Any], require_type: str | None) -> dict[str, Any]:
    view = args.get("view")
    problems = validation.validate_view(view, require_type)
    if problems:
        raise ValidationError("invalid_arguments", problems)
    assert isinstance(view, dict)  # validate_view rejects anything else
    return view


def _stored_view(store: Store, view: dict[str, Any], view_id: str, root_id: str | None) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        "state": {"values": {}},
        "clear_on_close": False,
        "notify_on_close": False,
        "previous_view_id": None,
    }
    stored.update(view)
    stored.update(
        {
            "id": view_id,
            "team_id": store.team_id,
            "app_id": store.app_id,
            "bot_id": store.bot_id,
            "hash": store.new_id("H").lower(),
            "root_view_id": root_id or view_id,
        }
    )
    return stored


def _open_view(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    view = _checked_view(args, "modal")
    with store.lock:
        store.consume_trigger(args.get("trigger_id"))
        external_id = view.get("external_id")
        if external_id and external_id in store.view_ids_by_external:
            raise ApiError("duplicate_external_id")
        stored = _stored_view(store, view, store.new_id("V"), None)
        store.views_by_id[stored["id"]] = stored
        store.view_order.append(stored["id"])
        if external_id:
            store.view_ids_by_external[external_id] = stored["id"]
    return {"ok": True, "view": dict(stored)}


def views_update(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    view = _checked_view(args, None)
    with store.lock:
        view_id = args.get("view_id") or store.view_ids_by_external.get(str(args.get("external_id") or ""))
        if not args.get("view_id") and not args.get("external_id"):
            raise ApiError("invalid_arguments", errors=["view_id or external_id is required"])
        current = store.views_by_id.get(str(view_id))
        if current is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = _stored_view(store, view, current["id"], current["root_view_id"])
        store.views_by_id[current["id"]] = stored
    return {"ok": True, "view": dict(stored)}


def views_publish(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    view = _checked_view(args, "home")
    user_id = args.get("user_id")
    with store.lock:
        store.user(user_id)
        assert isinstance(user_id, str)  # store.user rejects anything else
        view_id = store.home_views.get(user_id)
        current = store.views_by_id.get(view_id) if view_id else None
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = _stored_view(store, view, view_id or store.new_id("V"), None)
        store.views_by_id[stored["id"]] = stored
        store.home_views[user_id] = stored["id"]
    return {"ok": True, "view": dict(stored)}


# -- files ---------------------------------------------------------------------------------------


def files_get_upload_url_external(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    filename = _text(args, "filename")
    length = _int(args.get("length"), 0)
    if not filename or length <= 0:
        raise ApiError("invalid_arguments", errors=["filename and a positive length are required"])
    with store.lock:
        file_id = store.new_id("F")
        store.pending_uploads[file_id] = {"filename": filename, "length": length, "content": None}
    return {"ok": True, "upload_url": f"{store.base_url}upload/{file_id}", "file_id": file_id}


def receive_upload(store: Store, file_id: str, content: bytes) -> tuple[int, str]:
    """The POST of raw bytes to an upload_url (not a Web API method)."""
    with store.lock:
        pending = store.pending_uploads.get(file_id)
        if pending is None:
            return 404, "file_not_found"
        pending["content"] = content
    return 200, f"OK - {len(content)}"


def files_complete_upload_external(store: Store, args: dict[str, Any]) -> dict[str, Any]:
    files = args.get("files")
    if not isinstance(files, list) or not files:
        raise ApiError("invalid_arguments", errors=["files must be a non-empty JSON array"])
    channels = [c for c in str(args.get("channels") or "").split(",") if c]
    channel_id = _text(args, "channel_id") or (channels[0] if channels else None)
    completed: list[dict[str, Any]] = []
    with store.lock:
        for entry in files:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            pending = store.pending_uploads.get(str(file_id))
            if pending is None or pending["content"] is None:
                raise ApiError("file_not_found", errors=[f"file {file_id!r} was not uploaded"])
        for entry in files:
            pending = store.pending_uploads.pop(entry["id"])
            upload = Upload(
                file_id=entry["id"],
                filename=pending["filename"],
                title=entry.get("title") or pending["filename"],
                channel_id=channel_id,
                initial_comment=_text(args, "initial_comment"),
                thread_ts=_text(args, "thread_ts"),
                content=pending["content"],
            )
            store.uploads.append(upload)
            completed.append(_file_object(upload))
    return {"ok": True, "files": completed}


def _file_object(upload: Upload) -> dict[str, Any]:
    return {
        "id": upload.file_id,
        "name": upload.filename,
        "title": upload.title,
        "size": len(upload.content),
        "channels": [upload.channel_id] if upload.channel_id else [],
    }


# -- response URLs -------------------------------------------------------------------------------


def deliver_response(store: Store, url_id: str, body: Any) -> tuple[int, str, list[str]]:
    """A POST to a response_url: (status, plain-text reply, validation problems)."""
    if not isinstance(body, dict):
        return 400, "invalid_payload", ["body must be a JSON object"]
    if not body.get("delete_original") and not body.get("text") and not body.get("blocks"):
        return 400, "no_text", ["text or blocks is required"]
    if body.get("blocks") is not None:
        problems = validation.validate_blocks(body["blocks"])
        if problems:
            return 400, "invalid_blocks", problems
    with store.lock:
        uses = store.response_url_uses.get(url_id)
        if uses is None:
            return 404, "no_service", []
        if uses >= store.response_url_max_uses:
            return 404, "used_url", []
        store.response_url_uses[url_id] = uses + 1
        store.responses.append((url_id, body))
        store.changed.notify_all()
    return 200, "ok", []


HANDLERS: dict[str, Handler] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "users.list": users_list,
    "dnd.info": dnd_info,
    "views.open": _open_view,
    "views.push": _open_view,
    "views.update": views_update,
    "views.publish": views_publish,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
