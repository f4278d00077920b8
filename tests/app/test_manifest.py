"""The manifest, the listeners and the scopes agree with each other."""

import ast
import re
from pathlib import Path

import yaml
from slack_bolt import App

from bot.kernel.deps import Deps

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())

# Slack's documented scopes for each Web API method the bot calls (a tuple: one per conversation kind read).
METHOD_SCOPES: dict[str, str | tuple[str, ...] | None] = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_delete": "chat:write",
    "views_open": None,
    "views_push": None,
    "views_update": None,
    "views_publish": None,
    "auth_test": None,
    "users_info": "users:read",
    "users_lookupByEmail": "users:read.email",
    "dnd_info": "dnd:read",
    "conversations_open": "im:write",
    # DM history finds a check-in prompt sent before a crash; channel history a digest.
    "conversations_history": ("im:history", "channels:history", "groups:history"),
    "files_upload_v2": "files:write",
}


def _called_methods() -> set[str]:
    called: set[str] = set()
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if "fake_slack" in path.parts:  # the fake serves these methods; it does not call them
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and re.fullmatch(r"[a-z]+_[a-zA-Z0-9_]+", node.attr):
                    if node.attr.split("_")[0] in {
                        "chat",
                        "views",
                        "users",
                        "dnd",
                        "conversations",
                        "files",
                        "auth",
                    }:
                        called.add(node.attr)
    return called


def _listened_commands(app: App) -> set[str]:
    commands = set()
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            for cell in getattr(func, "__closure__", None) or []:
                value = cell.cell_contents
                if isinstance(value, str) and value.startswith("/"):
                    commands.add(value)
    return commands


def test_every_manifest_command_has_a_listener_and_vice_versa(deps: Deps) -> None:
    from bot.app.bolt_app import build_app

    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == {"/checkin", "/concern", "/reflect", "/mentorship"}
    assert _listened_commands(build_app(deps)) == declared
    assert all(c["should_escape"] is True for c in MANIFEST["features"]["slash_commands"])


def test_every_called_method_is_covered_by_a_scope_and_no_scope_is_unused() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    called = _called_methods()
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add these methods to METHOD_SCOPES: {unknown}"
    needed: set[str] = set()
    for method in called:
        scope = METHOD_SCOPES[method]
        needed.update((scope,) if isinstance(scope, str) else scope or ())
    assert needed <= scopes, f"missing scopes: {needed - scopes}"
    assert scopes - needed - {"commands"} == set(), f"scopes nothing uses: {scopes - needed - {'commands'}}"


def test_manifest_switches_on_what_the_bot_uses() -> None:
    features, settings = MANIFEST["features"], MANIFEST["settings"]
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
