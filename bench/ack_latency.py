"""Ack latency of `mentorbot run --http` against bare Bolt apps on the same server stack.

Two baselines: bare Bolt with its defaults, and the floor, bare Bolt with process_before_response=True
(as mentorbot runs) that only acks. All run as separate processes behind granian (BENCH_WORKERS worker
processes, default 1, with BENCH_THREADS request threads each, default 2), pinned to core 0; the load
generator runs on core 1.
Signed `/mentorship help` requests are sent one at a time and then from 16 concurrent clients over
keep-alive connections. Each server first answers WARM_UP requests; then all are measured in ROUNDS
rounds, one server at a time, each round starting with another server.

Last line: `ack p50 X ms p99 Y ms (c=1), p99 Z ms (c=16); floor p50 … p99 … (c=16); floor ratio p50 A
p99@16 B (target 1.5); ratio R` (A and B: mentorbot over the floor; R = mentorbot p99 / bare p99 at c=1).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fake_slack.models import FakeUser  # noqa: E402
from bot.fake_slack.server import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
WARM_UP = 300  # requests each server answers before any is measured: lazy imports, caches, pools
ROUNDS = 3
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def body_for(user_id: str) -> bytes:
    return urllib.parse.urlencode(
        {
            "command": "/mentorship",
            "text": "help",
            "user_id": user_id,
            "user_name": "bench",
            "team_id": "T0BENCH",
            "channel_id": "D0BENCH",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        }
    ).encode()


def timed_requests(port: int, count: int) -> list[float]:
    """`count` signed requests on one keep-alive connection; seconds per request."""
    verifier = SignatureVerifier(SECRET)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = body_for("U0COORD1")
    times = []
    for _ in range(count):
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }
        start = time.perf_counter()
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status} from port {port}")
    conn.close()
    return times


def measure(port: int, *, sequential: int, clients: int, per_client: int) -> tuple[list[float], list[float]]:
    seq = timed_requests(port, sequential)
    with ThreadPoolExecutor(clients) as pool:
        parts = list(pool.map(lambda _: timed_requests(port, per_client), range(clients)))
    return seq, [t for part in parts for t in part]


def pct(values: list[float], p: float) -> float:
    return (
        statistics.quantiles(values, n=1000)[int(p * 10) - 1] * 1000 if len(values) > 1 else values[0] * 1000
    )


def pin_to(cpu: int) -> None:
    """Servers get one core and the load generator the other, so clients don't steal the server's CPU."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def start_mentorbot(port: int, api_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
        MENTORBOT_PROGRAMS=str(ROOT / "tests" / "data" / "programs.yml"),
        MENTORBOT_SECRET_KEY="bench-secret-key-0123456789-0123456789",
        MENTORBOT_LOG_LEVEL="WARNING",
    )
    env.pop("SLACK_APP_TOKEN", None)
    threads, workers = os.environ.get("BENCH_THREADS", "2"), os.environ.get("BENCH_WORKERS", "1")
    cmd = [
        str(BIN / "mentorbot"),
        "run",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--threads",
        threads,
        "--workers",
        workers,
    ]
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: pin_to(0),
    )


def start_bare(port: int, api_url: str, *, floor: bool) -> subprocess.Popen[bytes]:
    stack = [os.environ.get("BENCH_WORKERS", "1"), os.environ.get("BENCH_THREADS", "2")]
    args = [str(port), SECRET, api_url, *stack]
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), *args, *(["floor"] if floor else [])],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: pin_to(0),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500, help="sequential requests per server")
    parser.add_argument("--per-client", type=int, default=100, help="requests per concurrent client")
    args = parser.parse_args()
    fake = FakeSlack().start()
    fake.add_user(FakeUser(id="U0COORD1", name="cora", real_name="Cora", tz="America/New_York"))
    results: dict[str, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ports = {name: free_port() for name in ("mentorbot", "bare", "floor")}
        servers = [
            start_mentorbot(ports["mentorbot"], fake.url, Path(tmp)),
            start_bare(ports["bare"], fake.url, floor=False),
            start_bare(ports["floor"], fake.url, floor=True),
        ]
        pin_to(1)
        try:
            for port in ports.values():
                wait_ready(port, "/healthz")
                timed_requests(port, WARM_UP)
            # One server at a time, so none competes with another's load; in rounds, each round in another
            # order, so whichever runs first (or last) on a drifting machine is not always the same one.
            names = list(ports)
            for round_ in range(ROUNDS):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    seq, conc = measure(
                        ports[name],
                        sequential=args.requests // ROUNDS,
                        clients=16,
                        per_client=args.per_client // ROUNDS,
                    )
                    done = results.setdefault(name, ([], []))
                    done[0].extend(seq)
                    done[1].extend(conc)
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(10)
            fake.stop()
    report(results)


def report(results: dict[str, tuple[list[float], list[float]]]) -> None:
    for name, (seq, conc) in results.items():
        print(
            f"{name}: p50 {pct(seq, 50):.1f} ms p99 {pct(seq, 99):.1f} ms (c=1, {len(seq)} requests); "
            f"p50 {pct(conc, 50):.1f} ms p99 {pct(conc, 99):.1f} ms (c=16, {len(conc)} requests)"
        )
    (ours_seq, ours_conc), (bare_seq, _), (floor_seq, floor_conc) = (
        results["mentorbot"],
        results["bare"],
        results["floor"],
    )
    floor_p50 = pct(ours_seq, 50) / pct(floor_seq, 50)
    floor_p99 = pct(ours_conc, 99) / pct(floor_conc, 99)
    print(
        f"ack p50 {pct(ours_seq, 50):.1f} ms p99 {pct(ours_seq, 99):.1f} ms (c=1), "
        f"p99 {pct(ours_conc, 99):.1f} ms (c=16); floor p50 {pct(floor_seq, 50):.1f} ms "
        f"p99 {pct(floor_conc, 99):.1f} ms (c=16); floor ratio p50 {floor_p50:.2f} p99@16 {floor_p99:.2f} "
        f"(target 1.5); ratio {pct(ours_seq, 99) / pct(bare_seq, 99):.2f}"
    )


if __name__ == "__main__":
    threading.excepthook = lambda args: None
    main()
