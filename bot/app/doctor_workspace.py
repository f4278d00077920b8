"""`mentorbot doctor` checks of what programs.yml names in Slack: the bot in each channel it posts to,
each coordinator and escalation contact an active person."""

from __future__ import annotations

from collections.abc import Iterator

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.app.doctor_result import Check, failed, passed
from bot.app.doctor_slack import unreachable
from bot.kernel.programs import ProgramsConfig

RETRY_FIX = "run mentorbot doctor again; if Slack keeps answering that, look the error up in Slack's docs"


def posting_channels(config: ProgramsConfig) -> dict[str, list[str]]:
    """Each channel the bot posts to, with what for: "img-2026 digest", "img-2026 escalation"."""
    channels: dict[str, list[str]] = {}
    for program in config.programs:
        channels.setdefault(program.digest.channel, []).append(f"{program.id} digest")
        if program.escalation is not None and program.escalation.channel is not None:
            channels.setdefault(program.escalation.channel, []).append(f"{program.id} escalation")
    return channels


def named_people(config: ProgramsConfig) -> dict[str, list[str]]:
    """Each coordinator and escalation contact, with where programs.yml names them."""
    people: dict[str, list[str]] = {}
    for program in config.programs:
        for user_id in program.coordinators:
            people.setdefault(user_id, []).append(f"{program.id} coordinators")
        if program.escalation is not None and program.escalation.user is not None:
            people.setdefault(program.escalation.user, []).append(f"{program.id} escalation.user")
    return people


def channel_checks(client: WebClient, config: ProgramsConfig, *, bot_name: str) -> Iterator[Check]:
    for channel, uses in posting_channels(config).items():
        yield membership_check(client, channel, ", ".join(uses), bot_name=bot_name)


def membership_check(client: WebClient, channel: str, uses: str, *, bot_name: str) -> Check:
    """conversations.history, which the bot already reads (a digest after a crash), refuses a non-member:
    no channels:read scope needed just for this."""
    what = f"bot in channel {channel} ({uses})"
    invite = f"invite the bot: /invite @{bot_name} in channel {channel}"
    try:
        client.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if error == "not_in_channel":
            return failed(what, "the bot is not a member", invite)
        if error == "channel_not_found":
            reason = "not found (or private, and the bot is not in it)"
            return failed(what, reason, f"check the channel id in programs.yml; if private, {invite}")
        return failed(what, f"Slack answered {error}", RETRY_FIX)
    except (OSError, SlackRequestError) as exc:  # the connection dropped, even after the client's retries
        return unreachable(client.base_url, exc)
    return passed(what)


def people_checks(client: WebClient, config: ProgramsConfig) -> Iterator[Check]:
    for user_id, roles in named_people(config).items():
        yield person_check(client, user_id, ", ".join(roles))


def person_check(client: WebClient, user_id: str, roles: str) -> Check:
    """users.info: the person exists, is not deactivated and is not a bot."""
    what = f"person {user_id} ({roles})"
    replace = f"replace {user_id} in programs.yml ({roles}) with an active person; mentorbot check-config"
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if error == "user_not_found":
            return failed(what, "no such user in this workspace", replace)
        return failed(what, f"Slack answered {error}", RETRY_FIX)
    except (OSError, SlackRequestError) as exc:
        return unreachable(client.base_url, exc)
    if user.get("deleted"):
        return failed(what, "deactivated", replace)
    if user.get("is_bot"):
        return failed(what, "a bot, not a person", replace)
    return passed(f"{what}: active")
