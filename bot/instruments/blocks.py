"""Block Kit for instrument surveys: the DM with its button, the answer modal, the thank-you view.

Every survey says, in the DM and beside each item, who sees the answer: nobody individually; it is
counted only in totals of min_group_size or more (per mentor only once that many mentees rated them).
"""

from __future__ import annotations

from typing import Any

from bot.instruments.catalog import Instrument
from bot.slack.blocks import Block, View, actions, button, context, message_modal, modal, plain, section

OPEN_ACTION = "instrument_survey_open"
SUBMIT_CALLBACK = "instrument_survey_submit"
ITEM_BLOCK = "instrument_item_{number}"
NOT_APPLICABLE = "na"
EVENT = "mentorbot_instrument"
MAX_OPTION = 75  # Slack's limit on an option's text
TITLE = "Survey"
SECONDS_PER_ITEM = 10  # a select per item; short forms take people about this long each


def minutes(instrument: Instrument) -> int:
    """An honest estimate of how long the form takes, never promised under two minutes."""
    return max(2, -(-len(instrument.items) * SECONDS_PER_ITEM // 60))


def audience_line(instrument: Instrument, min_group: int) -> str:
    """Who sees an answer to this instrument, said the same way in the DM and beside every item."""
    if instrument.rates == "mentor":
        return (
            f"Your mentor never sees your answer. Counted per mentor only once {min_group} or more "
            f"mentees have rated them, otherwise only in the program's totals of {min_group} or more."
        )
    return f"Counted only in totals of {min_group} or more; nobody sees your answer."


def metadata(survey_id: int) -> dict[str, Any]:
    """What a survey DM carries, by which a later tick finds it in the DM."""
    return {"event_type": EVENT, "event_payload": {"survey_id": survey_id}}


def survey_message(*, survey_id: int, instrument: Instrument, min_group: int) -> tuple[str, list[Block]]:
    """The survey DM: what it measures, who sees the answers, and the button opening the modal."""
    text = f"A short survey: {instrument.short_name}"
    return text, [
        section(
            f"*{text}*\n{instrument.measures}. {len(instrument.items)} questions, "
            f"about {minutes(instrument)} minutes."
        ),
        context(audience_line(instrument, min_group)),
        actions(
            [
                button(
                    f"Answer ({minutes(instrument)} min)",
                    OPEN_ACTION,
                    str(survey_id),
                    style="primary",
                    accessibility_label=f"Answer the {instrument.short_name} survey"[:75],
                )
            ]
        ),
    ]


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text[:MAX_OPTION]), "value": value}


def _options(instrument: Instrument) -> list[dict[str, Any]]:
    labels = instrument.scale.labels
    short = all(len(label) <= MAX_OPTION for label in labels.values())
    options = [_option(str(point), label if short else str(point)) for point, label in labels.items()]
    if instrument.scale.not_applicable:
        options.append(_option(NOT_APPLICABLE, "Not applicable"))
    return options


def _scale_key(instrument: Instrument) -> list[Block]:
    """Labels too long for an option are listed once above the items, each option showing its number."""
    labels = instrument.scale.labels
    if all(len(label) <= MAX_OPTION for label in labels.values()):
        return []
    return [section("\n".join(f"*{point}* · {label}" for point, label in labels.items()))]


def item_block(instrument: Instrument, number: int, audience: str) -> Block:
    return {
        "type": "input",
        "block_id": ITEM_BLOCK.format(number=number),
        "label": plain(instrument.items[number - 1].text),
        "hint": plain(audience),
        "element": {
            "type": "static_select",
            "action_id": ITEM_BLOCK.format(number=number),
            "placeholder": plain("Choose"),
            "options": _options(instrument),
        },
    }


def survey_modal(*, survey_id: int, instrument: Instrument, min_group: int) -> View:
    """One select per item, each item saying who sees the answer."""
    audience = audience_line(instrument, min_group)
    blocks = [section(f"*{instrument.stem}*"), *_scale_key(instrument)]
    blocks += [item_block(instrument, item.number, audience) for item in instrument.items]
    blocks.append(context(f"{instrument.name}. {instrument.citation[:300]}"))
    return modal(
        f"{TITLE} ({minutes(instrument)} min)",
        blocks,
        callback_id=SUBMIT_CALLBACK,
        submit="Send",
        close="Cancel",
        private_metadata=str(survey_id),
    )


def done_view(text: str) -> View:
    return message_modal(TITLE, text)
