"""The survey DM's "Answer (2 min)" button and the survey modal's submission."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.instruments import blocks
from bot.instruments.answers import SurveyClosed, instrument_for, open_survey, parse_answers, record_survey
from bot.kernel.deps import Deps
from handlers.common import Body, ack_only, safe_lazy, with_deps

THANKS = "Thank you. Your answer is counted only in totals; nobody sees it on its own."


def register(app: App, *, deps: Deps) -> None:
    app.action(blocks.OPEN_ACTION)(ack=ack_only, lazy=[safe_lazy(open_survey_modal, deps=deps)])
    app.view(blocks.SUBMIT_CALLBACK)(with_deps(save_survey, deps))


def open_survey_modal(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    survey_id = int(body["actions"][0].get("value") or 0)
    # A refusal (not yours, answered, closed) reaches the person through safe_lazy.
    view = open_survey(deps, survey_id=survey_id, user_id=body["user"]["id"])
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_survey(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    survey_id = int(view.get("private_metadata") or 0)
    instrument = instrument_for(deps, survey_id=survey_id)
    if instrument is None:
        ack(response_action="update", view=blocks.done_view("This survey is no longer open."))
        return
    parsed = parse_answers(instrument, view)
    if parsed.errors:
        ack(response_action="errors", errors=parsed.errors)
        return
    try:
        record_survey(deps, survey_id=survey_id, user_id=body["user"]["id"], answers=parsed.answers)
    except SurveyClosed as exc:
        ack(response_action="update", view=blocks.done_view(str(exc)))
        return
    ack(response_action="update", view=blocks.done_view(THANKS))
