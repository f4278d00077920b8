"""Demo chapter: what /mentorship help says to a coordinator and to someone not yet enrolled."""

from __future__ import annotations

from bot.app.demo.world import COORDINATOR, World


def run(world: World) -> None:
    world.heading("/mentorship help, as the coordinator")
    status, body, _ = world.slack.command("/mentorship", "help", user_id=COORDINATOR, user_name="cora")
    world.say(_reply_text(status, body))
    world.heading("/mentorship help, as a mentee not yet paired")
    status, body, _ = world.slack.command("/mentorship", "help", user_id="UDEMOME1", user_name="amara")
    world.say(_reply_text(status, body))


def _reply_text(status: int, body: str) -> str:
    import json

    if status != 200:
        return f"(HTTP {status})"
    return str(json.loads(body).get("text", "")) if body else "(empty ack)"
