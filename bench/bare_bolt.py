"""Baseline for bench/ack_latency.py: hello-world Bolt with Bolt's defaults, on the same server stack."""

from __future__ import annotations

import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient
from waitress import serve

from bot.http_server import make_wsgi_app


def main() -> None:
    port, secret, api_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = App(
        client=WebClient(token="xoxb-bench", base_url=api_url),
        signing_secret=secret,
        token_verification_enabled=False,
        process_before_response=len(sys.argv) > 4 and sys.argv[4] == "fast",
    )

    @app.command("/mentorship")
    def only_acks(ack: Ack) -> None:
        ack("ok")

    # The healthz route needs an engine; the baseline never calls it.
    from sqlalchemy import create_engine

    serve(
        make_wsgi_app(app, engine=create_engine("sqlite://")),
        host="127.0.0.1",
        port=port,
        threads=16,
        _quiet=True,
    )


if __name__ == "__main__":
    main()
