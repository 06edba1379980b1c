"""Benchmark kehu's pages under wrk against a bare FastAPI + SQLAlchemy floor, in one run.

    bash benchmarks/web/run.sh                     # or: python benchmarks/web/run.py
    python benchmarks/web/run.py --label after     # keep this run as "after" in results.json
    python benchmarks/web/run.py --profile         # plus py-spy profiles of the 8-connection runs

One run, on a copy of the demo store (``kehu demo --no-serve``, built once into
``benchmarks/web/.data/demo`` and copied afresh for every run, so every run starts from the same
rows):

- starts the real ``kehu serve`` (authentication, scopes, audit, CSRF, the job runner) and the
  floor (``floor.py``: one FastAPI endpoint reading the rows the 360 page shows, served by uvicorn
  the same way), both on 127.0.0.1;
- logs in as the demo agent (a session cookie for the pages) and creates an API token with
  ``tickets:read`` for the API;
- measures with wrk (one thread, 1 and 8 connections, a fixed duration each, ``--latency``):
  the floor, then kehu's customer 360 page, ticket page, queue page and queue API
  (``/api/tickets/queue``), then the floor again (the machine is shared: the floor's rate is
  the mean of its two passes, and both are kept);
- records requests/s, p50/p99 latency, the server's CPU time per request (from /proc: less
  sensitive to other load than the rate) and the 1-minute load average, and the SQL statements
  each page runs (``queries.py``, in process);
- writes ``results.json`` (one entry per ``--label``) and the tables into README.md.

Targets (issue 6): each kehu page at least 50% of the floor's rate, and p99 at most 100 ms, at 8
connections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = HERE / ".data"
KEHU = Path(sys.executable).with_name("kehu")
HOST = "127.0.0.1"
USER = "agent@demo.kehu"
PASSWORD = "kehu-demo-2026"  # kehu.demo.DEMO_PASSWORD
TARGET_RATIO = 0.50
TARGET_P99_MS = 100.0
CONNECTIONS = (1, 8)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------- the store


def demo_store(rebuild: bool) -> Path:
    """The demo store, built once by ``kehu demo --no-serve`` (in its own folder: the value run
    writes ``kehu-output/`` beside it)."""
    folder = DATA / "demo"
    store = folder / "kehu.db"
    if store.exists() and not rebuild:
        return store
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log("building the demo store (kehu demo --no-serve)")
    env = {**os.environ, "KEHU_DATABASE_URL": f"sqlite:///{store}"}
    subprocess.run(
        [str(KEHU), "demo", "--no-serve"], cwd=folder, env=env, check=True, capture_output=True
    )
    return store


def fresh_copy(store: Path) -> Path:
    run = DATA / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    source = sqlite3.connect(store)
    target = sqlite3.connect(run / "kehu.db")
    source.backup(target)  # a consistent copy, WAL included
    source.close()
    target.close()
    return run / "kehu.db"


def targets(store: Path, email: str) -> dict[str, Any]:
    """The user's teams, and what to open: the customer of the user's teams with the most
    tickets (then the most purchases), and the ticket of the user's teams with the most events."""
    db = sqlite3.connect(store)
    user_id = db.execute("select id from users where email = ?", (email,)).fetchone()[0]
    teams = [
        r[0] for r in db.execute("select team_id from team_members where user_id = ?", (user_id,))
    ]
    marks = ",".join("?" * len(teams)) or "null"
    customer = db.execute(
        f"""select t.customer_id, count(*) as n,
                   (select count(*) from transactions x where x.customer_id = t.customer_id) as p
            from tickets t where t.team_id in ({marks})
            group by t.customer_id order by n desc, p desc, t.customer_id limit 1""",
        teams,
    ).fetchone()
    ticket = db.execute(
        f"""select t.id, count(e.id) as n from tickets t join ticket_events e on e.ticket_id = t.id
            where t.team_id in ({marks}) group by t.id order by n desc, t.id limit 1""",
        teams,
    ).fetchone()
    counts = {
        name: db.execute(f"select count(*) from {name}").fetchone()[0]
        for name in ("customers", "customer_contacts", "transactions", "tickets", "ticket_events")
    }
    db.close()
    return {
        "user_id": user_id,
        "team_ids": teams,
        "customer_id": customer[0],
        "customer_tickets": customer[1],
        "customer_purchases": customer[2],
        "ticket_id": ticket[0],
        "ticket_events": ticket[1],
        "counts": counts,
    }


# ------------------------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, name: str, args: list[str], port: int, env: dict[str, str], cwd: Path):
        self.name, self.port = name, port
        self.log_path = DATA / "run" / f"{name}.log"
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not listen on {port} within 60 s")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def request(
    port: int, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    payload = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json"} if payload is not None else {}
    connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    found = {k.lower(): v for k, v in response.getheaders()}
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    found["set-cookie"] = "\n".join(cookies)
    connection.close()
    return response.status, found, data


def sign_in(port: int, email: str) -> tuple[str, str]:
    """A session cookie (``name=value``) and an API token with ``tickets:read``."""
    status, headers, data = request(
        port, "POST", "/api/auth/login", body={"email": email, "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"login answered {status}: {data[:300]!r}")
    cookie = next(c.split(";", 1)[0] for c in headers["set-cookie"].split("\n") if c)
    csrf = json.loads(data)["csrf_token"]
    status, _, data = request(
        port,
        "POST",
        "/api/tokens",
        body={"name": "web benchmark", "scopes": ["tickets:read"]},
        headers={"Cookie": cookie, "X-CSRF-Token": csrf},
    )
    if status != 201:
        raise RuntimeError(f"POST /api/tokens answered {status}: {data[:300]!r}")
    return cookie, json.loads(data)["secret"]


# ---------------------------------------------------------------------------------------- wrk

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, connections: int, duration: float, header: str | None) -> dict[str, Any]:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s"]
    if header:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    (DATA / "run" / "wrk-last.txt").write_text(out)
    latency = dict(re.findall(r"^\s*(50|75|90|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if "99" not in latency:
        raise RuntimeError(f"no latency distribution in wrk's output:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "output": out,
    }


def measure(
    server: Server, name: str, path: str, header: str | None, duration: float, profiler: Any
) -> list[dict[str, Any]]:
    # warm up (and check the answer is the real page, not a login redirect)
    key, _, value = (header or ":").partition(":")
    for _ in range(3):
        status, _, body = request(
            server.port, "GET", path, headers={key: value.strip()} if header else None
        )
        if status != 200:
            raise RuntimeError(f"{name} {path} answered {status}: {body[:300]!r}")
    size = len(body)
    runs = []
    for connections in CONNECTIONS:
        load = os.getloadavg()[0]
        cpu = server.cpu_seconds()
        spy = profiler(server, name) if profiler and connections == max(CONNECTIONS) else None
        found = wrk(f"http://{HOST}:{server.port}{path}", connections, duration, header)
        if spy is not None:
            spy.finish()
        cpu = server.cpu_seconds() - cpu
        found.update(
            name=name,
            path=path,
            connections=connections,
            duration_s=duration,
            load_before=round(load, 2),
            cpu_ms_per_request=round(1e3 * cpu / max(found["requests"], 1), 2),
            body_bytes=size,
        )
        if found["non_2xx"] or found["socket_errors"]:
            log(f"  {name}: {found['non_2xx']} non-2xx, {found['socket_errors']} socket errors")
        log(
            f"  {name} c={connections}: {found['rps']:.1f}/s, p99 {found['p99_ms']:.1f} ms, "
            f"{found['cpu_ms_per_request']:.1f} CPU ms/request (load {load:.2f})"
        )
        runs.append(found)
    return runs


class PySpy:
    """``py-spy record`` of the server while wrk runs (needs py-spy; see run.sh)."""

    def __init__(self, binary: str, server: Server, name: str, duration: float) -> None:
        self.path = DATA / "profiles" / f"{name.replace(' ', '_')}.txt"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(server.process.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--duration",
                str(int(duration)),
                "--output",
                str(self.path),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def finish(self) -> None:
        self.process.wait(timeout=60)


# ------------------------------------------------------------------------------------ report


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlalchemy

    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "wrk": " ".join(wrk_version),
    }


def summary(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Per page and connections: the rate against the floor's and the targets."""
    floor: dict[int, list[dict[str, Any]]] = {}
    for m in run["measurements"]:
        if m["name"] == "floor":
            floor.setdefault(m["connections"], []).append(m)
    rows = []
    seen = set()
    for m in run["measurements"]:
        if m["name"] == "floor":
            key = ("floor", m["connections"])
            if key in seen:
                continue
            seen.add(key)
            passes = floor[m["connections"]]
            rows.append(
                {
                    "name": "floor",
                    "connections": m["connections"],
                    "rps": sum(p["rps"] for p in passes) / len(passes),
                    "p99_ms": max(p["p99_ms"] for p in passes),
                    "cpu_ms": sum(p["cpu_ms_per_request"] for p in passes) / len(passes),
                    "passes": [round(p["rps"], 1) for p in passes],
                    "ratio": None,
                }
            )
            continue
        base = sum(p["rps"] for p in floor[m["connections"]]) / len(floor[m["connections"]])
        rows.append(
            {
                "name": m["name"],
                "connections": m["connections"],
                "rps": m["rps"],
                "p99_ms": m["p99_ms"],
                "cpu_ms": m["cpu_ms_per_request"],
                "ratio": m["rps"] / base,
                "queries": run.get("queries", {}).get(m["name"]),
            }
        )
    return rows


def _met(row: dict[str, Any]) -> str:
    if row["name"] == "floor" or row["connections"] != max(CONNECTIONS):
        return ""
    ok = row["ratio"] >= TARGET_RATIO and row["p99_ms"] <= TARGET_P99_MS
    return "yes" if ok else "**no**"


def table(results: dict[str, Any]) -> str:
    lines = []
    info = results["machine"]
    for label, run in results["runs"].items():
        t = run["targets"]
        loads = [m["load_before"] for m in run["measurements"]]
        lines += [
            f"### {label}: {run['date']}",
            "",
            f"{info['cpu']}, {info['cores']} cores; Python {info['python']}, SQLite "
            f"{info['sqlite']}, SQLAlchemy {info['sqlalchemy']}, {info['wrk']}. "
            f"{run['duration_s']:g} s per measurement, one wrk thread; the demo store "
            f"({t['counts']['customers']:,} customers, {t['counts']['transactions']:,} "
            f"transactions, {t['counts']['tickets']} tickets), signed in as {run['user']} "
            f"(teams {', '.join(map(str, t['team_ids']))}); customer {t['customer_id']} "
            f"({t['customer_tickets']} tickets, {t['customer_purchases']} purchases), ticket "
            f"{t['ticket_id']} ({t['ticket_events']} events). 1-minute load average before the "
            f"measurements: {min(loads):.2f} to {max(loads):.2f}. {run.get('note', '')}".rstrip(),
            "",
            "| endpoint | conns | req/s | p99 ms | server CPU ms/req | SQL statements/req "
            "| rate / floor | target met (8 conns) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for row in summary(run):
            name = row["name"]
            if name == "floor":
                name = f"floor (passes {' / '.join(map(str, row['passes']))})"
            ratio = "1" if row["ratio"] is None else f"{row['ratio']:.2f}"
            queries = row.get("queries")
            lines.append(
                f"| {name} | {row['connections']} | {row['rps']:.1f} | {row['p99_ms']:.1f} "
                f"| {row['cpu_ms']:.1f} | {queries if queries is not None else ''} | {ratio} "
                f"| {_met(row)} |"
            )
        lines.append("")
    if "before" in results["runs"] and len(results["runs"]) > 1:
        last = list(results["runs"])[-1]
        before = {(r["name"], r["connections"]): r for r in summary(results["runs"]["before"])}
        after = summary(results["runs"][last])
        lines += [
            f"### before -> {last}",
            "",
            "| endpoint | conns | req/s before | req/s after | rate / floor before | rate / floor "
            "after | p99 ms before | p99 ms after | CPU ms/req before | CPU ms/req after |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in after:
            old = before.get((row["name"], row["connections"]))
            if old is None or row["name"] == "floor":
                continue
            lines.append(
                f"| {row['name']} | {row['connections']} | {old['rps']:.1f} | {row['rps']:.1f} "
                f"| {old['ratio']:.2f} | {row['ratio']:.2f} | {old['p99_ms']:.1f} "
                f"| {row['p99_ms']:.1f} | {old['cpu_ms']:.1f} | {row['cpu_ms']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_readme(text: str) -> None:
    readme = HERE / "README.md"
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    body = readme.read_text() if readme.exists() else f"{start}\n{end}\n"
    head, rest = body.split(start, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{start}\n{text}{end}{tail}")


# -------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="after", help="name of this run in results.json")
    parser.add_argument("--note", default="", help="a sentence kept with the run")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per measurement")
    parser.add_argument("--user", default=USER, help="demo user to sign in as")
    parser.add_argument("--rebuild", action="store_true", help="build the demo store again")
    parser.add_argument("--only", nargs="*", help="page names to measure (360, ticket, ...)")
    parser.add_argument(
        "--profile", metavar="PY_SPY", help="py-spy binary: profile the 8-conn runs"
    )
    parser.add_argument("--no-worker", action="store_true", help="kehu serve --no-worker")
    parser.add_argument(
        "--source",
        type=Path,
        help="serve kehu from this source tree (its src/ goes first on PYTHONPATH), e.g. an "
        "export of another commit: git archive COMMIT src | tar -x -C DIR",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="print only; keep results and README"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("needs wrk (apt-get install -y wrk), or run benchmarks/web/run.sh")

    started = time.monotonic()
    store = fresh_copy(demo_store(args.rebuild))
    found = targets(store, args.user)
    url = f"sqlite:///{store}"
    kehu_port, floor_port = free_port(), free_port()
    env = {
        **os.environ,
        "KEHU_DATABASE_URL": url,
        "KEHU_PUBLIC_BASE_URL": f"http://{HOST}:{kehu_port}",
        "PYTHONUNBUFFERED": "1",
    }
    if args.source is not None:
        source = str((args.source / "src").resolve())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    pages = {
        "customer 360 page": f"/customers/{found['customer_id']}",
        "ticket page": f"/tickets/{found['ticket_id']}",
        "queue page": "/tickets",
        "queue API": "/api/tickets/queue",
    }
    if args.only:
        pages = {k: v for k, v in pages.items() if any(o in k for o in args.only)}

    log("SQL statements per page (in process)")
    counted = subprocess.run(
        [
            sys.executable,
            str(HERE / "queries.py"),
            "--database",
            url,
            "--user",
            args.user,
            "--json",
            *(f"{k}={v}" for k, v in pages.items()),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    queries = json.loads(counted.stdout)
    measurements: list[dict[str, Any]] = []
    with ExitStack() as stack:
        kehu_args = [str(KEHU), "serve", "--host", HOST, "--port", str(kehu_port)]
        if args.no_worker:
            kehu_args.append("--no-worker")
        kehu = Server("kehu", kehu_args, kehu_port, env, store.parent)
        stack.callback(kehu.stop)
        floor = Server(
            "floor",
            [
                sys.executable,
                str(HERE / "floor.py"),
                "--database",
                url,
                "--host",
                HOST,
                "--port",
                str(floor_port),
                "--teams",
                ",".join(map(str, found["team_ids"])),
            ],
            floor_port,
            env,
            store.parent,
        )
        stack.callback(floor.stop)
        cookie, token = sign_in(kehu_port, args.user)
        profiler = None
        if args.profile:

            def profiler(server: Server, name: str) -> PySpy:
                return PySpy(args.profile, server, name, args.duration)

        floor_path = f"/floor/{found['customer_id']}"
        log(f"floor {floor_path}")
        measurements += measure(floor, "floor", floor_path, None, args.duration, None)
        for name, path in pages.items():
            header = (
                f"Authorization: Bearer {token}"
                if path.startswith("/api/")
                else f"Cookie: {cookie}"
            )
            log(f"kehu {name} {path}")
            measurements += measure(kehu, name, path, header, args.duration, profiler)
        log(f"floor {floor_path} (second pass)")
        measurements += measure(floor, "floor", floor_path, None, args.duration, None)

    run = {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "duration_s": args.duration,
        "user": args.user,
        "targets": found,
        "queries": {k: v["count"] for k, v in queries.items()},
        "query_detail": queries,
        "measurements": measurements,
        "worker": not args.no_worker,
        "source": str(args.source) if args.source else "working tree",
        "note": args.note,
        "wall_s": round(time.monotonic() - started, 1),
    }
    results_path = HERE / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"runs": {}}
    results["machine"] = machine()
    results["runs"][args.label] = run
    text = table({**results, "runs": {args.label: run}} if args.no_save else results)
    print(text)
    if not args.no_save:
        for m in measurements:
            m.pop("output", None)
        results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        write_readme(table(results))
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
