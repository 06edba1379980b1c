"""Run the value benchmarks, kehu against lifetimes 0.11.3 side by side, and write the results.

Start it through ``run.sh`` (which makes lifetimes' venv); run under a Python with kehu installed:

    python benchmarks/value/run.py --lifetimes-python benchmarks/.venvs/lifetimes/bin/python

(a) BG/NBD fit, 1M customers; (b) Pareto/NBD fit, 100k customers: both libraries get the same
frequency / recency / T arrays in weeks (whole days / 7) from ``generate.py``; kehu's time includes
its row compression (done inside ``fit``); each fit runs in its own process (imports not counted).
kehu's time is the median of ``--repeat`` fits, lifetimes' is one fit. Both parameter sets are then
scored by kehu's log-likelihood function and by lifetimes' own over the same data.

(c) 10M transactions in Parquet -> per-customer CLV and value tiers in Parquet, each pipeline a
fresh process under ``/usr/bin/time -v`` (wall clock and peak RSS, imports counted): kehu's
``kehu_pipeline.py``, the real ``kehu value`` command (``--no-store``; then once more with the store
to time its writes separately) and ``lifetimes_pipeline.py``. The outputs are compared (CLV of the
same customer, tier agreement) to show the pipelines compute the same thing.

Writes ``results.md`` (markdown), ``results.json`` (every number) and the table into README.md
between the ``results`` markers; prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

SEEDS = {"bgnbd": 1, "paretonbd": 2, "transactions": 20240101}
SIZES = {"bgnbd": 1_000_000, "paretonbd": 100_000, "transactions": 10_000_000}
QUICK_SIZES = {"bgnbd": 100_000, "paretonbd": 20_000, "transactions": 1_000_000}
TARGET_SPEEDUP = 30.0
TARGET_WALL_S = 10.0
TARGET_RSS_GB = 2.0
PARAM_RTOL = 1e-3
LL_RTOL = 1e-9  # "at least as high", allowing for summation rounding


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


LOADS: list[float] = []  # 1-minute load average before each measured command


def run(cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True) -> str:
    log("$ " + " ".join(map(str, cmd)))
    LOADS.append(os.getloadavg()[0])
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(map(str, cmd))}")
    return done.stdout


# ------------------------------------------------------------------------------------ data
def ensure_data(sizes: dict[str, int]) -> dict[str, Path]:
    DATA.mkdir(exist_ok=True)
    (DATA / ".gitignore").write_text("*\n")
    paths = {}
    for model in ("bgnbd", "paretonbd"):
        n = sizes[model]
        path = DATA / f"summary_{model}_{n}_seed{SEEDS[model]}.npz"
        if not path.exists():
            log(f"generating {n} customers for {model}")
            run(
                [
                    sys.executable,
                    str(HERE / "generate.py"),
                    "summary",
                    str(n),
                    str(path),
                    str(SEEDS[model]),
                ]
            )
        paths[model] = path
    n = sizes["transactions"]
    path = DATA / f"transactions_{n}_seed{SEEDS['transactions']}.parquet"
    if not path.exists():
        log(f"generating {n} transactions")
        run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "transactions",
                str(n),
                str(path),
                str(SEEDS["transactions"]),
            ]
        )
    paths["transactions"] = path
    return paths


# ------------------------------------------------------------------------------- (a), (b)
def fit_benchmark(
    model: str, data: Path, lifetimes_py: str, repeat: int, profile: bool, skip_lifetimes: bool
) -> dict[str, Any]:
    out = DATA / "results"
    out.mkdir(exist_ok=True)
    worker = str(HERE / "fit_worker.py")
    kehu_json, lt_json = out / f"{model}_kehu.json", out / f"{model}_lifetimes.json"
    cmd = [
        sys.executable,
        worker,
        "fit",
        "kehu",
        model,
        str(data),
        str(kehu_json),
        "--repeat",
        str(repeat),
    ]
    if profile:
        cmd += ["--profile", str(out / f"{model}_kehu.prof")]
    run(cmd)
    if not skip_lifetimes or not lt_json.exists():
        run([lifetimes_py, worker, "fit", "lifetimes", model, str(data), str(lt_json)])
    both = [str(kehu_json), str(lt_json)]
    run(
        [
            sys.executable,
            worker,
            "eval",
            "kehu",
            model,
            str(data),
            str(out / f"{model}_ll_kehu.json"),
            "--params",
            *both,
        ]
    )
    run(
        [
            lifetimes_py,
            worker,
            "eval",
            "lifetimes",
            model,
            str(data),
            str(out / f"{model}_ll_lifetimes.json"),
            "--params",
            *both,
        ]
    )
    kehu = json.loads(kehu_json.read_text())
    lt = json.loads(lt_json.read_text())
    ll_kehu = json.loads((out / f"{model}_ll_kehu.json").read_text())["ll_of"]
    ll_lt = json.loads((out / f"{model}_ll_lifetimes.json").read_text())["ll_of"]
    kehu_s = statistics.median(kehu["fit_seconds"])
    lt_s = lt["fit_seconds"][0]
    rel = max(abs(kehu["params"][k] - v) / abs(v) for k, v in lt["params"].items())
    ll_ok = all(
        ll["kehu"] >= ll["lifetimes"] - LL_RTOL * abs(ll["lifetimes"]) for ll in (ll_kehu, ll_lt)
    )
    result = {
        "model": model,
        "n_customers": kehu["n_customers"],
        "kehu_seconds": kehu_s,
        "kehu_seconds_all": kehu["fit_seconds"],
        "lifetimes_seconds": lt_s,
        "speedup": lt_s / kehu_s,
        "kehu_params": kehu["params"],
        "lifetimes_params": lt["params"],
        "max_rel_param_diff": rel,
        "ll_by_kehu": ll_kehu,
        "ll_by_lifetimes": ll_lt,
        "params_equal": rel <= PARAM_RTOL,
        "ll_at_least_as_high": ll_ok,
    }
    result["met"] = result["speedup"] >= TARGET_SPEEDUP and (result["params_equal"] or ll_ok)
    if profile:
        result["profile_top"] = profile_top(out / f"{model}_kehu.prof")
    return result


def profile_top(path: Path, n: int = 15) -> str:
    import io
    import pstats

    stream = io.StringIO()
    pstats.Stats(str(path), stream=stream).sort_stats("cumulative").print_stats(n)
    return stream.getvalue()


# ------------------------------------------------------------------------------------- (c)
def timed(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Wall clock and peak RSS of ``cmd`` as a fresh process, from GNU time."""
    full = ["/usr/bin/time", "-v", *cmd]
    log("$ " + " ".join(full))
    load = os.getloadavg()[0]
    LOADS.append(load)
    start = time.perf_counter()
    with subprocess.Popen(
        full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # GNU time and the measured command with it
            process.communicate()
            return {"ok": False, "error": f"timed out after {timeout:.0f} s", "wall_s": timeout}
    done = subprocess.CompletedProcess(full, process.returncode, stdout, stderr)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-6000:])
        return {"ok": False, "error": done.stderr[-2000:], "wall_s": elapsed}
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)
    parts = [float(p) for p in wall.group(1).split(":")]
    seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    return {
        "ok": True,
        "wall_s": seconds,
        "peak_rss_gb": rss_kb / 1024**2,
        "stdout": done.stdout,
        "stderr_tail": done.stderr[-3000:],
        "load_before": load,
    }


def kehu_cli() -> str | None:
    found = shutil.which("kehu", path=str(Path(sys.executable).parent)) or shutil.which("kehu")
    if found is None:
        return None
    done = subprocess.run([found, "value", "--help"], capture_output=True, text=True)
    return found if done.returncode == 0 else None


def pipeline_benchmark(
    source: Path, lifetimes_py: str, skip_lifetimes: bool, store_timeout: float
) -> dict[str, Any]:
    out = DATA / "results"
    out.mkdir(exist_ok=True)
    end = generate.observation_end()
    subprocess.run(["cat", str(source)], stdout=subprocess.DEVNULL, check=True)  # warm cache
    result: dict[str, Any] = {"observation_end": end}

    kehu_out, kehu_phases = out / "kehu_pipeline.parquet", out / "kehu_pipeline.json"
    kehu = timed(
        [
            sys.executable,
            str(HERE / "kehu_pipeline.py"),
            str(source),
            str(kehu_out),
            end,
            str(kehu_phases),
        ]
    )
    if kehu["ok"]:
        kehu["phases"] = json.loads(kehu_phases.read_text())
    result["kehu_pipeline"] = kehu

    cli = kehu_cli()
    if cli is not None:
        cli_out = out / "kehu_cli.parquet"
        args = [
            cli,
            "value",
            str(source),
            "--customer",
            "customer_id",
            "--date",
            "order_date",
            "--amount",
            "amount",
            "--observation-end",
            end,
            "--unit",
            "month",
            "--horizon",
            "12",
            "--discount-rate",
            f"{1.01**12 - 1:.6f}",
        ]
        result["kehu_cli"] = timed([*args, "--no-store", "--output", str(cli_out)])
    lt_out, lt_phases = out / "lifetimes_pipeline.parquet", out / "lifetimes_pipeline.json"
    if not skip_lifetimes or not lt_phases.exists():
        lt = timed(
            [
                lifetimes_py,
                str(HERE / "lifetimes_pipeline.py"),
                str(source),
                str(lt_out),
                end,
                str(lt_phases),
            ]
        )
        if lt["ok"]:
            lt["phases"] = json.loads(lt_phases.read_text())
        result["lifetimes_pipeline"] = lt
    else:
        result["lifetimes_pipeline"] = json.loads((out / "lifetimes_timing.json").read_text())
    (out / "lifetimes_timing.json").write_text(json.dumps(result["lifetimes_pipeline"]))
    if cli is not None and store_timeout > 0:
        store_dir = out / "store"
        shutil.rmtree(store_dir, ignore_errors=True)
        store_dir.mkdir()
        env = dict(
            os.environ,
            KEHU_DATABASE_URL=f"sqlite:///{store_dir / 'kehu.db'}",
            KEHU_DATA_DIR=str(store_dir / "data"),
        )
        stored = timed(
            [*args, "--store", "--output", str(store_dir / "scores.parquet")],
            env=env,
            timeout=store_timeout,
        )
        result["kehu_cli_store"] = stored
        if stored["ok"] and result["kehu_cli"]["ok"]:
            stored["store_write_s"] = stored["wall_s"] - result["kehu_cli"]["wall_s"]
    if kehu["ok"] and result["lifetimes_pipeline"]["ok"]:
        result["agreement"] = compare_outputs(kehu_out, lt_out)
    return result


def compare_outputs(kehu_path: Path, lt_path: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    row = con.execute(
        f"""
        with k as (select customer_id, clv, tier from read_parquet('{kehu_path}')),
             l as (select customer_id, clv, tier from read_parquet('{lt_path}'))
        select count(*) as n,
               (select count(*) from k) as n_kehu,
               (select count(*) from l) as n_lifetimes,
               median(abs(k.clv - l.clv) / nullif(abs(l.clv), 0)) as median_rel_clv_diff,
               quantile_cont(abs(k.clv - l.clv) / nullif(abs(l.clv), 0), 0.99) as p99_rel_clv_diff,
               sum(k.clv) / sum(l.clv) as total_clv_ratio,
               avg(case when k.tier = l.tier then 1.0 else 0.0 end) as tier_agreement
        from k join l using (customer_id)
        """
    ).fetchone()
    names = [
        "n_joined",
        "n_kehu",
        "n_lifetimes",
        "median_rel_clv_diff",
        "p99_rel_clv_diff",
        "total_clv_ratio",
        "tier_agreement",
    ]
    return dict(zip(names, row, strict=True))


# --------------------------------------------------------------------------------- report
def fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def ratio_text(ratio: float, better: str, worse: str) -> str:
    factor, word = (ratio, better) if ratio >= 1 else (1 / ratio, worse)
    return f"{factor:.2f}x {word}" if factor < 2 else f"{factor:.1f}x {word}"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def params_text(p: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.5g}" for k, v in p.items())


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        f"Measured {env['date']} on {env['machine']} ({env['cores']} cores), "
        f"kehu {env['kehu']} on Python {env['python']}, lifetimes 0.11.3 on {env['lifetimes_env']}."
        f"{' QUICK run (small sizes): not the benchmark.' if results['quick'] else ''}",
        "",
        "| benchmark | kehu | lifetimes 0.11.3 | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (("bgnbd", "(a) BG/NBD fit"), ("paretonbd", "(b) Pareto/NBD fit")):
        r = results.get(key)
        if r is None:
            continue
        lines.append(
            f"| {label}, {r['n_customers']:,} customers: time | {fmt_s(r['kehu_seconds'])} "
            f"| {fmt_s(r['lifetimes_seconds'])} | {ratio_text(r['speedup'], 'faster', 'slower')} "
            "| >= 30x "
            f"| {yes(r['speedup'] >= TARGET_SPEEDUP)} |"
        )
        lines.append(
            f"| {label}: largest relative parameter difference | "
            f"{r['max_rel_param_diff']:.1e} | | | <= 1e-3, or LL as high | "
            f"{yes(r['params_equal'])} |"
        )
        for by, name in (("ll_by_kehu", "kehu's"), ("ll_by_lifetimes", "lifetimes'")):
            ll = r[by]
            lines.append(
                f"| {label}: log-likelihood by {name} function | {ll['kehu']:.4f} "
                f"| {ll['lifetimes']:.4f} | {ll['kehu'] - ll['lifetimes']:+.4f} "
                "| kehu >= lifetimes "
                f"| {yes(ll['kehu'] >= ll['lifetimes'] - LL_RTOL * abs(ll['lifetimes']))} |"
            )
    c = results.get("pipeline")
    if c is not None:
        lt = c["lifetimes_pipeline"]
        n_tx = results["sizes"]["transactions"]
        for key, label in (("kehu_pipeline", "kehu_pipeline.py"), ("kehu_cli", "`kehu value`")):
            k = c.get(key)
            if k is None:
                continue
            if not k["ok"]:
                lines.append(f"| (c) {label}: failed | {k['error'][-200:]!r} | | | | **no** |")
                continue
            lines.append(
                f"| (c) {n_tx / 1e6:.0f}M transactions -> CLV + tiers, {label}: wall "
                f"| {fmt_s(k['wall_s'])} | {fmt_s(lt['wall_s'])} "
                f"| {ratio_text(lt['wall_s'] / k['wall_s'], 'faster', 'slower')} | <= 10 s "
                f"| {yes(k['wall_s'] <= TARGET_WALL_S)} |"
            )
            lines.append(
                f"| (c) {label}: peak memory (RSS) | {k['peak_rss_gb']:.2f} GB "
                f"| {lt['peak_rss_gb']:.2f} GB "
                f"| {ratio_text(lt['peak_rss_gb'] / k['peak_rss_gb'], 'less', 'more')} "
                f"| <= 2 GB | {yes(k['peak_rss_gb'] <= TARGET_RSS_GB)} |"
            )
        stored = c.get("kehu_cli_store")
        if stored is not None and not stored.get("ok"):
            lines.append(
                f"| (c) `kehu value` with the store (SQLite) | failed: "
                f"{stored['error'][-120:].strip()!r} | | | timed separately | |"
            )
        if stored is not None and stored.get("ok"):
            lines.append(
                f"| (c) `kehu value` with the store (SQLite): wall, store writes "
                f"| {fmt_s(stored['wall_s'])} (+{fmt_s(stored['store_write_s'])} store) "
                f"| | | timed separately | |"
            )
    lines.append("")
    loads = results.get("load_averages") or [0.0]
    lines.append(
        f"- 1-minute load average before the measured commands: {min(loads):.1f} to "
        f"{max(loads):.1f} on {env['cores']} cores (above ~1, other work shared the machine); "
        f"whole run {results['elapsed_s'] / 60:.1f} min."
    )
    for key in ("bgnbd", "paretonbd"):
        r = results.get(key)
        if r is not None:
            runs = ", ".join(f"{s:.3f}" for s in r["kehu_seconds_all"])
            lines.append(
                f"- {key}: kehu {params_text(r['kehu_params'])}; lifetimes "
                f"{params_text(r['lifetimes_params'])} (weeks). kehu fits (s): {runs}."
            )
    if c is not None:
        for key in ("kehu_pipeline", "lifetimes_pipeline"):
            k = c.get(key)
            if k and k.get("ok") and "phases" in k:
                phases = ", ".join(f"{n} {v:.2f}" for n, v in k["phases"]["phases"].items())
                lines.append(f"- {key} phases (s, in process): {phases}.")
        a = c.get("agreement")
        if a is not None:
            lines.append(
                f"- kehu_pipeline vs lifetimes outputs: {a['n_joined']:,} customers joined "
                f"({a['n_kehu']:,} / {a['n_lifetimes']:,}); CLV relative difference median "
                f"{a['median_rel_clv_diff']:.1e}, 99th percentile {a['p99_rel_clv_diff']:.1e}; "
                f"total CLV ratio {a['total_clv_ratio']:.5f}; same tier for "
                f"{100 * a['tier_agreement']:.3f}% of customers."
            )
    return "\n".join(lines) + "\n"


def environment(lifetimes_py: str) -> dict[str, Any]:
    import kehu

    lt = subprocess.run(
        [
            lifetimes_py,
            "-c",
            "import sys, numpy, pandas, scipy; "
            "print(f'Python {sys.version.split()[0]}, numpy {numpy.__version__}, "
            "pandas {pandas.__version__}, scipy {scipy.__version__}')",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    return {
        "date": dt.date.today().isoformat(),
        "machine": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kehu": kehu.__version__,
        "lifetimes_env": lt,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


def write_outputs(results: dict[str, Any]) -> str:
    table = markdown(results)
    where = DATA / "results" if results["quick"] else HERE  # a quick trial keeps the real results
    where.mkdir(parents=True, exist_ok=True)
    (where / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (where / "results.md").write_text("# Value benchmark results\n\n" + table)
    readme = HERE / "README.md"
    if readme.exists() and not results["quick"]:
        text = readme.read_text()
        start, end = "<!-- results:start -->", "<!-- results:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            readme.write_text(f"{head}{start}\n{table}{end}{tail}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lifetimes-python", required=True)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    parser.add_argument("--repeat", type=int, default=3, help="kehu fits per model (median)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one extra kehu fit per model"
    )
    parser.add_argument("--only", choices=["a", "b", "c"], nargs="*", default=["a", "b", "c"])
    parser.add_argument(
        "--store-timeout",
        type=float,
        default=600,
        help="limit (s) of the `kehu value --store` run; 0 skips it",
    )
    parser.add_argument(
        "--skip-lifetimes",
        action="store_true",
        help="reuse lifetimes' previous results (NOT side by side)",
    )
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the tables from results.json"
    )
    args = parser.parse_args()
    if args.render_only:
        print(write_outputs(json.loads((HERE / "results.json").read_text())))
        return
    sizes = QUICK_SIZES if args.quick else SIZES
    started = time.perf_counter()
    paths = ensure_data(sizes)
    results: dict[str, Any] = {
        "quick": args.quick,
        "sizes": sizes,
        "environment": environment(args.lifetimes_python),
        "lifetimes_reused": args.skip_lifetimes,
    }
    if "a" in args.only:
        results["bgnbd"] = fit_benchmark(
            "bgnbd",
            paths["bgnbd"],
            args.lifetimes_python,
            args.repeat,
            args.profile,
            args.skip_lifetimes,
        )
    if "b" in args.only:
        results["paretonbd"] = fit_benchmark(
            "paretonbd",
            paths["paretonbd"],
            args.lifetimes_python,
            args.repeat,
            args.profile,
            args.skip_lifetimes,
        )
    if "c" in args.only:
        results["pipeline"] = pipeline_benchmark(
            paths["transactions"], args.lifetimes_python, args.skip_lifetimes, args.store_timeout
        )
    results["elapsed_s"] = time.perf_counter() - started
    results["load_averages"] = LOADS
    table = write_outputs(results)
    print(table)
    if args.profile:
        for key in ("bgnbd", "paretonbd"):
            if key in results:
                print(f"## cProfile of kehu's {key} fit\n```\n{results[key]['profile_top']}```")
    log(f"done in {results['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
