"""Benchmark driver: runs every scenario for the reference and for ours, prints and writes the table.

Usage: bench.py --tag TAG --ours PATH [--quick] [--results FILE]   (normally via bench/run.sh)
"""

import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

import harness as h
import scenarios
from harness import BenchError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

FULL = dict(n=500, n_socket=1000, n_metrics=1000, log_bytes=1 << 30, lines=1_000_000, runs=3, idle_secs=10.0,
            ctl_reps=5, rpc_reps=20, restart_cycles=4, probe_secs=1.2, callgrind=True, budget=700,
            hc_programs=1000, hc_secs=10.0)
QUICK = dict(n=20, n_socket=40, n_metrics=1000, log_bytes=16 << 20, lines=20_000, runs=1, idle_secs=2.0,
             ctl_reps=2, rpc_reps=5, restart_cycles=2, probe_secs=1.1, callgrind=False, budget=300,
             hc_programs=100, hc_secs=3.0)


def metrics(p):
    """(key, label, unit, format, target, bound key) per table row; target = (kind, value, text)."""
    n, ns = p["n"], p["n_socket"]
    gib = p["log_bytes"] / (1 << 30)
    size = f"{gib:g} GiB" if gib >= 1 else f"{p['log_bytes'] >> 20} MiB"
    lines = f"{p['lines'] / 1e6:g} M" if p["lines"] >= 1e6 else f"{p['lines']}"
    idle = f"{p['idle_secs']:g} s"
    return [
        ("rss_1", "daemon RSS, 1 program", "kB", "{:.0f}", ("ratio_le", 1 / 10, "<= 1/10"), None),
        ("rss_n", f"daemon RSS, {n} programs", "kB", "{:.0f}", ("ratio_le", 1 / 10, "<= 1/10"), None),
        ("rss_per_prog", "daemon RSS per extra program", "kB", "{:.1f}", ("abs_le", 10, "<= 10 kB"), None),
        ("idle_wakeups", f"idle wake-ups/s, 1 program (ctx switches over {idle})", "/s", "{:.2f}",
         ("abs_le", 0, "0"), None),
        ("idle_wakeups_n", f"idle wake-ups/s, {n} programs", "/s", "{:.2f}", ("abs_le", 0, "0"), None),
        # The bound: bash forking and exec'ing the same n `sleep`s (progs/spawn_loop.sh).
        ("all_running", f"all {n} RUNNING after exec (startsecs=0; bound: bash spawning {n})", "s",
         "{:.3f}", ("ratio_le", 1 / 10, "<= 1/10"), "spawn_bound_s"),
        ("start_cpu_s", "  daemon CPU from exec until then", "s", "{:.3f}", None, None),
        ("answer_n", f"control socket answers after exec, {ns} programs", "s", "{:.3f}",
         ("abs_lt", 0.1, "< 0.1 s"), None),
        ("status_ms", f"`supervisorctl status`, {n} programs, fresh client", "ms", "{:.1f}",
         ("ratio_le", 1 / 50, "<= 1/50"), None),
        ("status_daemon_ms", "  daemon CPU per `status`", "ms", "{:.1f}", None, None),
        ("gapi_ms", f"getAllProcessInfo, {n} programs, warm client", "ms", "{:.2f}",
         ("ratio_le", 1 / 20, "<= 1/20"), None),
        ("gapi_daemon_ms", "  daemon CPU per getAllProcessInfo", "ms", "{:.2f}", None, None),
        ("pid_ms", "`supervisorctl pid` (client start-up), wall", "ms", "{:.1f}",
         ("ratio_le", 1 / 30, "<= 1/30"), None),
        ("pid_cpu_ms", "  client CPU (user+sys)", "ms", "{:.1f}", ("ratio_le", 1 / 30, "<= 1/30"), None),
        ("pid_instr", "  instructions (callgrind)", "Ir", "{:,.0f}", ("ratio_le", 1 / 30, "<= 1/30"), None),
        ("stopall_s", f"`supervisorctl stop all`, {n} programs", "s", "{:.3f}", ("ratio_le", 1 / 3, "<= 1/3"),
         None),
        ("shutdown_s", f"daemon shutdown (SIGTERM to reaped), {n} programs", "s", "{:.3f}",
         ("ratio_le", 1 / 3, "<= 1/3"), None),
        ("restart_ms", "restart latency (exit after startsecs -> respawn)", "ms", "{:.1f}",
         ("abs_lt", 10, "< 10 ms"), None),
        ("quick_rate", "program exiting at once (startsecs=0, autorestart): restarts/s", "/s", "{:.2f}",
         ("range", (0.5, 2.0), "~1/s"), None),
        ("quick_cpu_ms", "  daemon CPU meanwhile", "ms/s", "{:.2f}", None, None),
        # Each transfer is judged against the `cat > file` bound measured right before it and the
        # bare splice loop measured right after it (scenarios.log_bytes): this VM's slow periods
        # last tens of seconds, so only neighbours share them. The judged rows are the medians of
        # those per-transfer ratios; the absolute rows show the best transfer per run.
        ("bytes_mbs", f"log {size} in large writes: throughput", "MB/s", "{:.0f}", None, "bytes_bound_mbs"),
        ("bytes_vs_bound", "  throughput / `cat > file` bound measured right before it", "", "{:.2f}",
         ("abs_ge", 0.9, ">= 0.90"), None),
        # The floor is a bare splice(2) loop's CPU for the same bytes: one kernel copy per byte,
        # which every pipe -> file capture pays. It is above 1/5 of the reference (see
        # docs/bench-notes.md, "splice capture"), so the row is met within 25% of that floor.
        ("bytes_cpu_s", "  daemon CPU (bound: bare splice loop; 1/5 of the reference is below it)", "s",
         "{:.3f}", None, "bytes_cpu_floor_s"),
        ("bytes_cpu_vs_floor", "  daemon CPU / splice loop measured right after it", "", "{:.2f}",
         ("abs_le", 1.25, "<= 1.25 (instead of 1/5)"), None),
        ("bytes_calls", "  daemon read+write syscalls (/proc/pid/io)", "", "{:,.0f}", None, None),
        ("bytes_intact", "  every byte present", "", "{}", ("true", True, "yes"), None),
        ("lines_s", f"log {lines} unbuffered 80-byte lines: wall", "s", "{:.2f}", None, "lines_bound_s"),
        ("lines_cpu_s", "  daemon CPU", "s", "{:.3f}", ("ratio_le", 1 / 5, "<= 1/5"), None),
        ("lines_calls", "  daemon read+write syscalls", "", "{:,.0f}", None, None),
        ("lines_intact", "  every line present", "", "{}", ("true", True, "yes"), None),
        ("plines_s", "  the same with log_prefix + log_timestamps (ours only): wall", "s", "{:.2f}",
         None, None),
        ("plines_rate", "    lines/s", "/s", "{:,.0f}", None, None),
        ("plines_cpu_s", "    daemon CPU", "s", "{:.3f}", None, None),
        ("plines_intact", "    every line present, stamped and prefixed", "", "{}",
         ("true", True, "yes"), None),
        ("metrics_ms", f"GET /metrics, {p['n_metrics']} programs, warm client", "ms", "{:.2f}", None, None),
        ("metrics_daemon_ms", "  daemon CPU per scrape", "ms", "{:.2f}", None, None),
        ("metrics_kb", "  exposition size", "KiB", "{:.0f}", None, None),
        ("metrics_gapi_ms", f"  getAllProcessInfo, same {p['n_metrics']} programs", "ms", "{:.2f}", None, None),
        ("metrics_gapi_daemon_ms", "  daemon CPU per getAllProcessInfo", "ms", "{:.2f}", None, None),
        ("metrics_vs_gapi", "  scrape wall / getAllProcessInfo wall", "", "{:.2f}", ("abs_lt", 1, "< 1"),
         None),
        ("metrics_cpu_vs_gapi", "  scrape daemon CPU / getAllProcessInfo daemon CPU", "", "{:.2f}",
         ("abs_lt", 1, "< 1"), None),
        # bench/health.py: lateness by the kernel's stamp of each request (when the daemon sent
        # it), so the harness's own Python server does not count; the run-queue row says how
        # much of it was the machine.
        ("hc_cpu_us", f"{p['hc_programs']} http health checks/s (ours only): daemon CPU per check", "us",
         "{:.0f}", None, None),
        ("hc_late", "  checks late by more than 10 ms (of all in the window)", "", "{:.0f}",
         ("abs_le", 0, "0"), None),
        ("hc_p99_ms", "  lateness p99 (request sent vs the fixed schedule)", "ms", "{:.2f}", None, None),
        ("hc_runq_ms", "  daemon runnable but waiting for a CPU meanwhile", "ms", "{:.0f}", None, None),
        ("size_mb", f"binary size, stripped ({binary_kind(p)}; reference: its venv without Python)", "MB",
         "{:.2f}",
         ("abs_lt", 3, "< 3 MB"), None),
    ]


def work_base(p):
    """Where configs, sockets and logs go: tmpfs when it has room (the shared disk's latency -- ms
    per file creation under load -- would otherwise dominate start-up rows for both daemons)."""
    env = os.environ.get("BENCH_DIR")
    if env:
        return env
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize > 3 * p["log_bytes"] + (1 << 30):
            return "/dev/shm"
    except OSError:
        pass
    return "/tmp"


def binary_kind(p):
    for path, kind in p.get("binaries", []):
        if os.path.exists(path):
            return "static build" if kind == "static" else "release build, dynamic glibc"
    return "no build"


class Cell:
    """The runs' values of one metric for one implementation, summarised as a median."""

    def __init__(self):
        self.values = []
        self.errors = []

    def add(self, v):
        if isinstance(v, list):  # several samples from one run (the 1 GiB pairs)
            for x in v:
                self.add(x)
            return
        if isinstance(v, BenchError):
            self.errors.append(str(v))
        elif v is not None:
            self.values.append(v)

    def value(self):
        if not self.values:
            return None
        if isinstance(self.values[0], bool):
            return all(self.values)
        return statistics.median(self.values)

    def reason(self):
        return self.errors[0] if self.errors else "not measured"


def ratio_text(r):
    if r is None:
        return "-"
    if r == 0:
        return "0"
    if r < 0.5:
        return f"{r:.3g} (1/{1 / r:.0f})"
    return f"{r:.3g}"


def judge(target, ours, ref, bound):
    if target is None or ours is None:
        return "-"
    kind, val, _ = target
    if kind == "ratio_le":
        if ref in (None, 0):
            return "-"
        return "yes" if ours / ref <= val else "NO"
    if kind == "abs_ge":
        return "yes" if ours >= val else "NO"
    if kind == "abs_le":
        return "yes" if ours <= val else "NO"
    if kind == "abs_lt":
        return "yes" if ours < val else "NO"
    if kind == "range":
        return "yes" if val[0] <= ours <= val[1] else "NO"
    if kind == "true":
        return "yes" if ours is True else "NO"
    return "-"


def build_table(p, cells, runs_done):
    """Markdown table rows plus the list of n/a reasons."""
    rows = ["| scenario | reference | ours | ratio (ours/ref) | target | bound | met |",
            "|---|---:|---:|---:|---|---:|:-:|"]
    reasons = []
    derive_per_prog(p, cells)
    for key, label, unit, fmt, target, bound_key in metrics(p):
        ref = cells["reference"].get(key, Cell())
        ours = cells["ours"].get(key, Cell())
        rv, ov = ref.value(), ours.value()
        bound = None
        if bound_key:
            bound = cells["reference"].get(bound_key, Cell()).value()

        def show(v, cell, who):
            if v is None:
                reasons.append((label.strip(), who, cell.reason()))
                return "n/a"
            txt = fmt.format(v) if not isinstance(v, bool) else ("yes" if v else "NO")
            if len(cell.values) < runs_done and cell.errors:
                txt += f" ({len(cell.values)}/{runs_done} runs)"
            return txt
        ratio = None
        if isinstance(rv, (int, float)) and isinstance(ov, (int, float)) and not isinstance(rv, bool) and rv:
            ratio = ov / rv
        unit_s = f" {unit}" if unit else ""
        bound_s = (fmt.format(bound) + unit_s) if bound is not None else "-"
        tgt = target[2] if target else "(info)"
        rs = show(rv, ref, "reference") + (unit_s if rv is not None and unit else "")
        os_ = show(ov, ours, "ours") + (unit_s if ov is not None and unit else "")
        rows.append(f"| {label} | {rs} | {os_} | {ratio_text(ratio)} | {tgt} | {bound_s} | "
                    f"{judge(target, ov, rv, bound)} |")
    return rows, reasons


HEADLINE = [("rss_1", "daemon RSS, 1 program"), ("rss_n", "daemon RSS, N programs"),
            ("idle_wakeups", "idle wake-ups"), ("all_running", "all N RUNNING after exec"),
            ("answer_n", "control socket answering with N programs"),
            ("status_ms", "`supervisorctl status`, N programs"), ("gapi_ms", "getAllProcessInfo, N programs"),
            ("pid_ms", "`supervisorctl pid`"), ("stopall_s", "`stop all`, N programs"),
            ("shutdown_s", "shutdown, N programs"), ("restart_ms", "restart latency"),
            ("bytes_mbs", "log throughput"), ("bytes_vs_bound", "log throughput / `cat > file` bound"),
            ("bytes_cpu_s", "daemon CPU logging 1 GiB"), ("bytes_cpu_vs_floor", "daemon CPU / splice loop"),
            ("lines_cpu_s", "daemon CPU logging 1 M lines"), ("size_mb", "stripped binary")]


def headline(p, cells):
    """One short line per headline row: ours vs reference and the ratio, for README.md."""
    out = []
    rows = {m[0]: m for m in metrics(p)}
    for key, label in HEADLINE:
        n = p["n_socket"] if key == "answer_n" else p["n"]
        label = label.replace("N programs", f"{n} programs").replace("all N", f"all {n}")
        label = label.replace("1 GiB", f"{p['log_bytes'] >> 20} MiB").replace("1 M lines", f"{p['lines']} lines")
        _, _, unit, fmt, target, bound_key = rows[key]
        rv = cells["reference"].get(key, Cell()).value()
        ov = cells["ours"].get(key, Cell()).value()
        if ov is None:
            continue
        u = f" {unit}" if unit else ""
        txt = f"{label}: ours {fmt.format(ov)}{u}"
        if rv is not None and not isinstance(rv, bool):
            txt += f" vs reference {fmt.format(rv)}{u}"
            if rv and key != "size_mb":
                txt += f" (ratio {ratio_text(ov / rv)})"
        if bound_key:
            b = cells["reference"].get(bound_key, Cell()).value()
            if b is not None:
                txt += f"; bound {fmt.format(b)}{u}"
        if target:
            txt += f"; target {target[2]}: {judge(target, ov, rv, None if not bound_key else b)}"
        out.append(txt)
    return out


def derive_per_prog(p, cells):
    for who in cells:
        c1, cn = cells[who].get("rss_1"), cells[who].get("rss_n")
        cell = Cell()
        if c1 and cn and c1.value() is not None and cn.value() is not None:
            cell.add((cn.value() - c1.value()) / (p["n"] - 1))
        else:
            cell.add(BenchError("needs both RSS rows"))
        cells[who]["rss_per_prog"] = cell


def ours_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", required=True, help="BENCH_TAG value marking every process we start")
    ap.add_argument("--ours", required=True, help="path of our release binary")
    ap.add_argument("--ref", default=os.path.join(REPO, ".ref-venv"), help="reference venv")
    ap.add_argument("--quick", action="store_true", help="small sizes for development")
    ap.add_argument("--results", help="write the markdown report here")
    ap.add_argument("--only", help="comma-separated scenario names (substring match)")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--impls", default="reference,ours", help="which implementations to run")
    args = ap.parse_args()

    p = dict(QUICK if args.quick else FULL)
    for k in list(p):
        env = os.environ.get("BENCH_" + k.upper())
        if env is not None:
            p[k] = type(p[k])(float(env)) if not isinstance(p[k], bool) else env not in ("0", "")
    if args.runs:
        p["runs"] = args.runs
    p["log_bytes"] = max(scenarios.CHUNK, p["log_bytes"] // scenarios.CHUNK * scenarios.CHUNK)
    p["tag"] = args.tag
    os.environ["BENCH_TAG"] = args.tag

    def on_signal(sig, _frame):
        raise SystemExit(128 + sig)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    h.become_subreaper()

    root = os.path.join(work_base(p), f"svb-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "bin"))
    os.environ["BENCH_ROOT"] = root
    ours_bin = os.path.abspath(args.ours)
    p["binaries"] = [(ours_bin, "static" if h.is_static_elf(ours_bin) else "release")]
    for name in ("supervisord", "supervisorctl"):
        os.symlink(ours_bin, os.path.join(root, "bin", name))
    ref_bin = os.path.join(os.path.abspath(args.ref), "bin")
    impls = [
        h.Impl("reference", [os.path.join(ref_bin, "supervisord")], [os.path.join(ref_bin, "supervisorctl")],
               None if os.path.exists(os.path.join(ref_bin, "supervisord")) else "reference not installed"),
        h.Impl("ours", [os.path.join(root, "bin", "supervisord")], [os.path.join(root, "bin", "supervisorctl")],
               None if os.path.exists(ours_bin) else f"{args.ours} not built"),
    ]
    for impl in impls:
        if impl.name not in args.impls.split(",") and not impl.unavailable:
            impl.unavailable = "not selected (--impls)"
    ctx = scenarios.Context(root, p)
    chosen = scenarios.ALL
    if args.only:
        want = args.only.split(",")
        chosen = [s for s in scenarios.ALL if any(w in s[0] for w in want)]

    cells = {i.name: {} for i in impls}
    given_up = {}  # (impl, scenario) -> results of a run where nothing could be measured
    started = time.monotonic()
    runs_done = 0
    print(f"bench: {h.machine_description()}", flush=True)
    print(f"bench: params {', '.join(f'{k}={v}' for k, v in p.items() if k not in ('binaries', 'tag'))}",
          flush=True)
    try:
        for run in range(p["runs"]):
            if run and (time.monotonic() - started) / run * (run + 1) > p["budget"]:
                print(f"bench: stopping after {run} runs (time budget {p['budget']}s)", flush=True)
                break
            order = impls if run % 2 == 0 else impls[::-1]
            for sname, fn, *limit in chosen:
                # A joint scenario measures all daemons in one block (log bytes: each transfer
                # next to its own bound); its per-daemon results are handed out below.
                joint = None
                if getattr(fn, "joint", False):
                    t0 = time.monotonic()
                    try:
                        joint = fn([i for i in order if not i.unavailable], ctx, run)
                    except Exception as e:  # noqa: BLE001 - a broken scenario is an n/a row
                        joint = {i.name: {k: BenchError(f"{type(e).__name__}: {e}") for k, *_ in metrics(p)}
                                 for i in order}
                    print(f"bench: run {run + 1} {sname:15s} block     {time.monotonic() - t0:6.1f}s", flush=True)
                for impl in order:
                    t0 = time.monotonic()
                    if limit and impl.name == "reference" and run >= limit[0]:
                        continue
                    if impl.unavailable:
                        res = {k: BenchError(impl.unavailable) for k, *_ in metrics(p)}
                    elif (impl.name, sname) in given_up:
                        res = given_up[(impl.name, sname)]
                    else:
                        try:
                            res = joint[impl.name] if joint is not None else fn(impl, ctx, run)
                        except Exception as e:  # noqa: BLE001 - a broken scenario is an n/a row
                            res = {k: BenchError(f"{type(e).__name__}: {e}") for k, *_ in metrics(p)}
                        left = h.cleanup(args.tag)
                        if left:
                            print(f"bench: WARNING {left} processes survived cleanup", flush=True)
                        public = {k: v for k, v in res.items() if not k.startswith("_")}
                        errors = {k: v for k, v in public.items() if isinstance(v, BenchError)}
                        if public and len(errors) == len(public):
                            given_up[(impl.name, sname)] = res
                        elif errors and time.monotonic() - t0 > 90:  # a hang: don't wait for it again
                            given_up[(impl.name, sname)] = errors
                    for k, v in res.items():
                        cells[impl.name].setdefault(k, h_cell()).add(v)
                    if impl.unavailable:
                        shown = f"n/a ({impl.unavailable})"
                    else:
                        shown = ", ".join(f"{k}={fmt_sample(v)}" for k, v in res.items() if not k.startswith("_"))
                    print(f"bench: run {run + 1} {sname:15s} {impl.name:9s} {time.monotonic() - t0:6.1f}s "
                          f"{shown}", flush=True)
            runs_done = run + 1
    finally:
        h.cleanup(args.tag)
        shutil.rmtree(root, ignore_errors=True)

    rows, reasons = build_table(p, cells, runs_done)
    elapsed = time.monotonic() - started
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        f"Date: {now}. Machine: {h.machine_description()}.",
        f"Ours: `{ours_commit()}` ({p['binaries'][-1][0].replace(REPO + '/', '')}); reference: supervisor 4.3.0 "
        f"on Python {sys.version.split()[0]}.",
        f"Medians over {runs_done} run(s); the bench took {elapsed / 60:.1f} min. "
        f"Sizes: {p['n']} programs, {p['n_socket']} for the socket row, "
        f"{p['log_bytes'] >> 20} MiB log, {p['lines']} lines. Work dir (configs, sockets, logs): "
        f"{os.path.dirname(root)}.",
    ]
    print()
    print("\n".join(head))
    print()
    print("\n".join(rows))
    reasons = merge_reasons(reasons)
    if reasons:
        print("\nn/a:")
        for r in reasons:
            print(f"- {r}")
    heads = headline(p, cells)
    if heads:
        print("\nHeadline:")
        for line in heads:
            print(f"- {line}")
    if args.results:
        write_results(args.results, head, rows, reasons, cells, heads)
        print(f"\nbench: wrote {args.results}")


def merge_reasons(reasons):
    """One line per distinct (implementation, reason), naming the rows it affects."""
    by = {}
    for label, who, why in reasons:
        by.setdefault((who, why), []).append(label)
    out = []
    for (who, why), labels in by.items():
        rows = "; ".join(labels) if len(labels) < 4 else f"{len(labels)} rows"
        out.append(f"{who}: {why} ({rows})")
    return out


def h_cell():
    return Cell()


def fmt_sample(v):
    if isinstance(v, BenchError):
        return f"n/a({str(v)[:60]})"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_results(path, head, rows, reasons, cells, heads):
    out = ["# Benchmark results", "", "Written by `make bench` (bench/run.sh); see docs/bench-notes.md for "
           "how each row is measured.", ""]
    out += [line + "  " for line in head] + [""] + rows + [""]
    if heads:
        out += ["## Headline", ""] + [f"- {x}" for x in heads] + [""]
    if reasons:
        out += ["## Not measured", ""] + [f"- {r}" for r in reasons] + [""]
    out += ["## Samples per run", "", "| metric | reference | ours |", "|---|---|---|"]
    keys = sorted(set(cells["reference"]) | set(cells["ours"]))
    for k in keys:
        if k.startswith("_"):
            continue
        def samples(who):
            c = cells[who].get(k)
            if not c:
                return "-"
            return ", ".join(fmt_sample(v) for v in c.values) or "n/a"
        out.append(f"| {k} | {samples('reference')} | {samples('ours')} |")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
