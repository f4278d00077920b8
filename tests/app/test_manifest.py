"""The manifest, the listeners and the scopes agree with each other."""

import ast
import json
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from slack_bolt import App

from bot.kernel.deps import Deps

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
# Slack's published schema (source and version in data/slack-manifest-schema/README.md).
SCHEMA_DIR = Path(__file__).parent / "data" / "slack-manifest-schema"
RELEASE = "v0.5.0"

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
    assert declared == {"/checkin", "/concern", "/reflect", "/idea", "/mentorship"}
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


def _slack_schema() -> Draft7Validator:
    """Slack's top-level schema; its $refs name the versioned schemas by URL: served from the copies."""

    def load(name: str) -> Any:
        return json.loads((SCHEMA_DIR / name).read_text())

    base = f"https://raw.githubusercontent.com/slackapi/manifest-schema/{RELEASE}/schemas"
    registry: Registry[Any] = Registry().with_resources(
        (f"{base}/manifest.schema.{version}.json", Resource(load(f"manifest.schema.{version}.json"), DRAFT7))
        for version in ("1.0.0", "2.0.0")
    )
    return Draft7Validator(load("manifest.schema.json"), registry=registry, format_checker=FormatChecker())


def test_the_manifest_passes_slacks_published_app_manifest_schema() -> None:
    error = best_match(_slack_schema().iter_errors(MANIFEST))
    where = "/".join(str(part) for part in error.absolute_path) if error else ""
    assert error is None, f"manifest.yml: {where}: {error.message if error else ''}"


def test_the_schema_check_would_catch_an_empty_usage_hint() -> None:
    broken = json.loads(json.dumps(MANIFEST))
    broken["features"]["slash_commands"][2]["usage_hint"] = ""
    assert not _slack_schema().is_valid(broken)


def test_the_messages_tab_is_read_only_since_nothing_answers_typed_messages() -> None:
    app_home, events = MANIFEST["features"]["app_home"], MANIFEST["settings"]["event_subscriptions"]
    assert app_home["messages_tab_enabled"] and app_home["messages_tab_read_only_enabled"] is True
    assert not [event for event in events["bot_events"] if event.startswith("message")]


def test_http_mode_has_seven_request_urls_and_the_readme_says_seven() -> None:
    urls = [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    urls += [MANIFEST["settings"]["event_subscriptions"]["request_url"]]
    urls += [MANIFEST["settings"]["interactivity"]["request_url"]]
    assert len(urls) == 7 and {url.rsplit("/", 2)[-2:] == ["slack", "events"] for url in urls} == {True}
    readme = (ROOT / "README.md").read_text()
    assert "all seven" in readme and "three request URLs" not in readme
