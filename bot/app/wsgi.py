"""The WSGI application of `mentorbot run --http`, built inside each HTTP worker process."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from bot.app.bolt_app import build_app
from bot.app.bootstrap import bootstrap
from bot.app.http_server import make_wsgi_app
from bot.app.ops_server import worker_health
from bot.kernel.logging_setup import configure_logging
from bot.kernel.programs_live import watch_programs
from bot.kernel.settings import load_settings

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def create_wsgi_app() -> WSGIApplication:
    """Granian's factory: the same settings as the parent process, read from the environment.

    The parent validated them, migrated the schema and synced programs.yml before starting workers.
    """
    settings = load_settings()
    configure_logging(settings.log_level)
    deps = bootstrap(settings, prepare_database=False)
    # Each worker follows programs.yml itself, for as long as it lives; the parent logs what changed.
    watch_programs(deps, quiet=True)
    wsgi = make_wsgi_app(build_app(deps), health=worker_health(deps.engine))
    # Everything built so far lives as long as the worker: keep the cyclic GC from rescanning it
    # on every collection, which otherwise lands in the acks' tail latency.
    gc.freeze()
    return wsgi
