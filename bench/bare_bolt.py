"""Baselines for bench/ack_latency.py: hello-world Bolt on the same server stack.

With Bolt's defaults it is the baseline; with `process_before_response=True` (as mentorbot runs) it is
the floor, since it does nothing but ack. Run as
`python bench/bare_bolt.py PORT SECRET API_URL WORKERS THREADS [floor]`; granian imports `create` in
each worker, which reads its arguments back from the environment.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import create_engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def create() -> WSGIApplication:
    from bot.app.http_server import make_wsgi_app

    app = App(
        client=WebClient(token="xoxb-bench", base_url=os.environ["BARE_API_URL"]),
        signing_secret=os.environ["BARE_SECRET"],
        token_verification_enabled=False,
        process_before_response=os.environ.get("BARE_FLOOR") == "1",
    )

    @app.command("/mentorship")
    def only_acks(ack: Ack) -> None:
        ack("ok")

    # The healthz route needs an engine; the baseline never calls it.
    return make_wsgi_app(app, engine=create_engine("sqlite://"))


def main() -> None:
    import multiprocessing

    from granian.constants import HTTPModes, Interfaces, RuntimeModes
    from granian.log import LogLevels
    from granian.server import Server

    port, secret, api_url, workers, threads = sys.argv[1:6]
    floor = "1" if sys.argv[6:7] == ["floor"] else "0"
    os.environ.update(BARE_SECRET=secret, BARE_API_URL=api_url, BARE_FLOOR=floor)
    multiprocessing.set_start_method("spawn", force=True)
    Server(
        "bench.bare_bolt:create",
        factory=True,
        interface=Interfaces.WSGI,
        address="127.0.0.1",
        port=int(port),
        workers=int(workers),
        blocking_threads=int(threads),
        runtime_mode=RuntimeModes.st,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels.warning,
    ).serve()


if __name__ == "__main__":
    main()
