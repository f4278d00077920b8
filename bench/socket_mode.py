"""Socket Mode under connection faults, against the fake Slack's Socket Mode endpoint.

Each client runs in its own process (a bare sync Bolt app acking `/ping`), so its CPU is its own:
- fin, rst, close, silence: the fake breaks the live link; recovery = the fault until the new
  link's hello, confirmed by an envelope acked on it; CPU = the client's share of a core from the
  fault to the recovery (at least 3 s);
- refresh: `refresh_requested` / `warning` (old link closed 10 s later, as Slack warns); an envelope
  sent the moment the new link says hello; its ack delay after that hello (p99 over the cycles);
- link_disabled: connection attempts and log lines in 25 s, and whether any is a traceback;
- refused token: exit code and stderr lines.

Clients: `mentorbot` (bot.app.socket_mode), `bolt-builtin` (Bolt's SocketModeHandler as
`mentorbot run` used it: the baseline), `builtin-ping1` (the same with ping_interval=1),
`websocket-client` (Bolt's websocket-client adapter, ping_interval=2; needs websocket-client).

Last line: `socket mode: worst recovery X s (half-open Y s), ack p99 after refresh Z s; targets
5 s, 15 s, 1 s; ratio R; baseline ratio B` with R the worst of X/5, Y/15, Z/1 (B: the same for
bolt-builtin). R <= 1 meets every target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fake_slack.server import FakeSlack  # noqa: E402
from bot.fake_slack.socket_mode import FAULT_KINDS, SocketModeEndpoint  # noqa: E402

TOKEN = "xapp-1-bench"
REFUSED = "xapp-1-refused"
FAULT_LIMIT = 90.0
CPU_WINDOW = 3.0  # CPU is measured over the fault and recovery, and at least this long
DISABLED_WINDOW = 25.0
TARGETS = {"fault": 5.0, "silence": 15.0, "ack": 1.0}
CLIENTS = ("mentorbot", "bolt-builtin", "builtin-ping1", "websocket-client")
TICK = os.sysconf("SC_CLK_TCK")


# -- the client process --------------------------------------------------------------------------


def child(mode: str, api_url: str, app_token: str) -> None:
    import logging

    from slack_bolt import App
    from slack_sdk import WebClient

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    client = WebClient(token="xoxb-bench", base_url=api_url)
    app = App(client=client, process_before_response=True, token_verification_enabled=False)
    app.command("/ping")(lambda ack: ack("pong"))
    if mode == "mentorbot":
        from bot.app.socket_mode import SocketModeRefused, SocketModeRunner

        try:
            SocketModeRunner(app, app_token, client=client).run()
        except SocketModeRefused as exc:
            print(exc, file=sys.stderr)
            sys.exit(1)
        return
    if mode == "websocket-client":
        from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler as WsHandler

        WsHandler(app, app_token, ping_interval=2).connect()  # type: ignore[no-untyped-call]
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        ping = 1 if mode == "builtin-ping1" else 10  # 10: Bolt's default, as `mentorbot run` used it
        SocketModeHandler(app, app_token, ping_interval=ping).connect()  # type: ignore[no-untyped-call]
    threading.Event().wait()


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Result:
    client: str
    recovery: dict[str, float | None] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    refresh_acks: list[float] = field(default_factory=list)
    disabled: str = ""
    refused: str = ""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def newest(sm: SocketModeEndpoint) -> int:
    return max((link.id for link in sm.links), default=0)


def live_link(sm: SocketModeEndpoint) -> int:
    return max(link.id for link in sm.links if link.status == "open")


def ping(sm: SocketModeEndpoint, link: int, timeout: float = 10.0) -> float:
    payload = {"command": "/ping", "text": "", "user_id": "U0BENCH", "team_id": "T0MENTOR"}
    payload |= {"api_app_id": "A0MENTOR", "channel_id": "D0BENCH", "trigger_id": "1.2.x"}
    envelope_id = sm.send("slash_commands", payload, link=link)
    return sm.wait_for_ack(envelope_id, timeout).at


def fault_recovery(sm: SocketModeEndpoint, pid: int, kind: str) -> tuple[float | None, float]:
    link, top = live_link(sm), newest(sm)
    started, cpu0 = time.monotonic(), cpu_seconds(pid)
    sm.fault(kind, link=link)  # type: ignore[arg-type]
    fault_at = sm.link(link).fault_at or started
    try:
        hello = sm.wait_for_hello(after=top, timeout=FAULT_LIMIT)
        assert hello.hello_at is not None
        ping(sm, hello.id)
        recovered: float | None = hello.hello_at - fault_at
    except TimeoutError:
        recovered = None
    time.sleep(max(0.0, started + CPU_WINDOW - time.monotonic()))  # clock ticks are 10 ms: a real window
    return recovered, (cpu_seconds(pid) - cpu0) / (time.monotonic() - started)


def refresh_acks(sm: SocketModeEndpoint, cycles: int) -> list[float]:
    delays = []
    for i in range(cycles):
        link, top = live_link(sm), newest(sm)
        sm.disconnect("warning" if i % 2 else "refresh_requested", close_after=10.0, link=link)
        hello = sm.wait_for_hello(after=top, timeout=FAULT_LIMIT)
        assert hello.hello_at is not None
        delays.append(ping(sm, hello.id) - hello.hello_at)
    return delays


def link_disabled(sm: SocketModeEndpoint, log: Path) -> str:
    before_lines = len(log.read_text().splitlines())
    tickets = sm.tickets_issued
    top = newest(sm)
    sm.enabled = False
    sm.disconnect("link_disabled", close_after=0.0, link=live_link(sm))
    time.sleep(DISABLED_WINDOW)  # a window of wall time: what the client does meanwhile is the figure
    lines = log.read_text().splitlines()[before_lines:]
    attempts = sm.tickets_issued - tickets
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    sm.enabled = True
    enabled_at = time.monotonic()
    try:
        hello = sm.wait_for_hello(after=top, timeout=FAULT_LIMIT)
        while hello.hello_at is not None and hello.hello_at < enabled_at:
            hello = sm.wait_for_hello(after=hello.id, timeout=FAULT_LIMIT)
        back = f"back {hello.hello_at - enabled_at:.0f} s after re-enabling" if hello.hello_at else ""
    except TimeoutError:
        back = "not back"
    window = f"{DISABLED_WINDOW:.0f} s"
    return f"{attempts} attempts, {len(lines)} log lines, {tracebacks} tracebacks in {window}; {back}"


def start_child(mode: str, fake: FakeSlack, token: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--child", mode, fake.url, token]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("a"), env=env)


def launch(mode: str, fake: FakeSlack, log: Path) -> subprocess.Popen[bytes]:
    """The client process, connected and acking."""
    top = newest(fake.socket_mode)
    proc = start_child(mode, fake, TOKEN, log)
    ping(fake.socket_mode, fake.socket_mode.wait_for_hello(after=top, timeout=30).id)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


def refused_token(mode: str, fake: FakeSlack, folder: Path) -> str:
    log = folder / f"{mode}-refused.log"
    proc = start_child(mode, fake, REFUSED, log)
    try:
        code = proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    lines = log.read_text().splitlines()
    return f"exit {code}, {len(lines)} stderr lines" + (
        ", traceback" if any("Traceback" in x for x in lines) else ""
    )


def bench_client(mode: str, fake: FakeSlack, cycles: int, folder: Path) -> Result:
    sm, result = fake.socket_mode, Result(mode)
    log = folder / f"{mode}.log"
    proc = launch(mode, fake, log)
    try:
        for kind in FAULT_KINDS:
            result.recovery[kind], result.cpu[kind] = fault_recovery(sm, proc.pid, kind)
            print(f"  {mode} {kind}: {show(result.recovery[kind])}, {result.cpu[kind]:.0%} CPU", flush=True)
            if result.recovery[kind] is None:  # deaf for good: start it again for the next scenario
                stop(proc)
                proc = launch(mode, fake, log)
        result.refresh_acks = refresh_acks(sm, cycles)
        result.disabled = link_disabled(sm, log)
    finally:
        stop(proc)
    result.refused = refused_token(mode, fake, folder)
    return result


# -- reporting -----------------------------------------------------------------------------------


def show(seconds: float | None) -> str:
    return f">{FAULT_LIMIT:.0f} s" if seconds is None else f"{seconds:.2f} s"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def ratio(result: Result) -> float:
    def seconds(kind: str) -> float:
        value = result.recovery.get(kind)
        return FAULT_LIMIT if value is None else value

    worst_fault = max(seconds(kind) for kind in FAULT_KINDS if kind != "silence")
    return max(
        worst_fault / TARGETS["fault"],
        seconds("silence") / TARGETS["silence"],
        p99(result.refresh_acks) / TARGETS["ack"],
    )


def report(results: list[Result]) -> None:
    print(f"{'client':<17}" + "".join(f"{kind:>10}" for kind in FAULT_KINDS) + "  max CPU  refresh ack p99")
    for result in results:
        recoveries = "".join(f"{show(result.recovery[kind]):>10}" for kind in FAULT_KINDS)
        cpu = max(result.cpu.values())
        print(f"{result.client:<17}{recoveries}  {cpu:>6.0%}  {p99(result.refresh_acks):.3f} s")
    for result in results:
        print(f"{result.client}: link_disabled {result.disabled}; refused token {result.refused}")
    ours = next((r for r in results if r.client == "mentorbot"), results[0])
    worst = max(v if v is not None else FAULT_LIMIT for k, v in ours.recovery.items() if k != "silence")
    silence = ours.recovery["silence"]
    line = (
        f"socket mode: worst recovery {worst:.2f} s (half-open {show(silence)}), "
        f"ack p99 after refresh {p99(ours.refresh_acks):.3f} s; targets 5 s, 15 s, 1 s; "
        f"ratio {ratio(ours):.2f}"
    )
    baseline = next((r for r in results if r.client == "bolt-builtin"), None)
    print(line + (f"; baseline ratio {ratio(baseline):.2f}" if baseline else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="mentorbot,bolt-builtin", help=f"any of {','.join(CLIENTS)}")
    parser.add_argument("--refreshes", type=int, default=20, help="refresh_requested/warning cycles")
    args = parser.parse_args()
    results = []
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        fake.socket_mode.refuse(REFUSED)
        for mode in args.clients.split(","):
            if mode == "websocket-client" and not _importable("websocket"):
                print("websocket-client: skipped (pip install websocket-client)")
                continue
            results.append(bench_client(mode, fake, args.refreshes, Path(folder)))
    report(results)


def _importable(name: str) -> Any:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
