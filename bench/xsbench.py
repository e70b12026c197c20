#!/usr/bin/env python3
"""xsbench.py - measuring helpers for bench/run.sh (stdlib only).

  runs N OUT.json -- CMD...      run CMD N times one after the other; record
                                 start time, wall time, CPU user/sys and peak
                                 RSS of each run (wait4 rusage of the direct
                                 child); "%RUN%" in an argument becomes the
                                 run's number (0, 1, ...)
  alternate N OUT0.json OUTD.json PID -- CMD...
                                 N pairs of runs as "runs" does, the first of
                                 each pair with bench/delay.c (PID) adding no
                                 delay (SIGUSR1), the second with its delay
                                 (SIGUSR2); "%RUN%" becomes 0z, 0d, 1z, ...
  rounds N OUT.json SPEC.tsv      N rounds in which every client of SPEC.tsv
                                 (a line each: name, then its argument
                                 words, tab-separated) runs once, each
                                 round in its own (seeded) order, so that
                                 all of them see the same machine load and
                                 follow each other; "%RUN%" becomes the
                                 round's number; OUT.json maps each name to
                                 its runs
  burst OUT.json ARGS.txt -- CMD...
                                 start one process per line of ARGS.txt at
                                 once (CMD + the words of that line), all
                                 released together from a pipe barrier;
                                 retry exit 75 (bounded), record everything
  proxy LPORT TPORT DELAY_MS READY_FILE
                                 TCP relay 127.0.0.1:LPORT -> 127.0.0.1:TPORT
                                 that holds every chunk DELAY_MS milliseconds
                                 in each direction (added round-trip time =
                                 2 * DELAY_MS); order and half-closes are kept
  calibrate DELAY_MS OUT.json    measure such a relay's real RTT (1-byte echo)
  bigbody BYTES FILE             write BYTES of base64 text in 76-column
                                 lines, not ending in a newline
  verify-burst N PREFIX BOB.txt CAROL.txt
                                 check the stored bodies of a burst
  summary DIR                    collect DIR's raw results into
                                 DIR/results.json and print the summary

Every child gets a deadline (--deadline SECONDS, default 120): it is killed
with SIGKILL when it passes and the run is recorded as rc 137.
"""

import asyncio
import base64
import json
import os
import random
import signal
import socket
import statistics
import sys
import time

DEADLINE = 120.0

# CPU time and peak RSS come from bench/rusage.c (XSB_RUSAGE) wrapped
# around each client: the ru_maxrss that wait4() reports for a child forked
# from Python includes the interpreter's own pages (the high-water mark of
# the pre-exec image is kept across execve), and GNU time(1) rounds CPU time
# to 10 ms.
RUSAGE = os.environ.get("XSB_RUSAGE", "xsb-rusage")


def _timed(argv, path):
    return [RUSAGE, path] + list(argv)


def _read_timed(path):
    """user, sys (s), maxrss (KiB) from the file xsb-rusage wrote."""
    try:
        with open(path) as f:
            last = f.read().strip().splitlines()[-1].split()
        os.unlink(path)
        return float(last[0]), float(last[1]), int(last[2])
    except (OSError, IndexError, ValueError):
        return float("nan"), float("nan"), 0


def _exec_child(argv, barrier_fd=None, stdin_path=None):
    """In the forked child: wait for the barrier, then exec argv."""
    try:
        if barrier_fd is not None:
            os.read(barrier_fd, 1)  # returns b"" when the parent closes it
            os.close(barrier_fd)
        fd = os.open(stdin_path or os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, f"xsbench: exec {argv[0]}: {e}\n".encode())
    os._exit(127)


def _rc(status):
    return os.waitstatus_to_exitcode(status)


def one_run(argv, stdout_path=None, stdin_path=None, stderr_path=None,
            deadline=DEADLINE):
    """Fork/exec argv, wait with wait4; return a result dict."""
    out_fd = os.open(stdout_path or os.devnull,
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err_fd = os.open(stderr_path or os.devnull,
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    tfile = f"/tmp/xsbench-time.{os.getpid()}"
    start = time.time()  # wall clock: matches bench/delay.c's packet log
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        _exec_child(_timed(argv, tfile), stdin_path=stdin_path)
    os.close(out_fd)
    os.close(err_fd)
    killed = False

    def on_alarm(_sig, _frm):
        nonlocal killed
        killed = True
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        _, status, _ru = os.wait4(pid, 0)  # PEP 475: retried after alarm
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    wall = time.monotonic() - t0
    user, sys_, rss = _read_timed(tfile)
    return {
        "start": start,
        "wall": wall,
        "user": user,
        "sys": sys_,
        "maxrss_kib": rss,
        "rc": _rc(status),
        "killed": killed,
    }


def cmd_runs(args):
    n = int(args[0])
    out = args[1]
    rest = args[2:]
    stdin_path = None
    if rest[:1] == ["--stdin"]:
        stdin_path = rest[1]
        rest = rest[2:]
    if rest[:1] != ["--"] or len(rest) < 2:
        print("usage: runs N OUT.json [--stdin FILE] -- CMD...",
              file=sys.stderr)
        return 64
    argv = rest[1:]
    res = []
    for i in range(n):
        stdout_path = out + f".stdout.{i}" if i == 0 else None
        argv_i = [a.replace("%RUN%", str(i)) for a in argv]
        res.append(one_run(argv_i, stdout_path=stdout_path,
                           stdin_path=stdin_path, stderr_path=out + ".stderr"))
    with open(out, "w") as f:
        json.dump({"argv": argv, "runs": res}, f, indent=1)
    bad = [r["rc"] for r in res if r["rc"] != 0]
    if bad:
        print(f"xsbench: {argv[0]}: non-zero exits {bad}", file=sys.stderr)
        return 1
    return 0


def cmd_alternate(args):
    """alternate N OUT0.json OUTD.json PID -- CMD...: N pairs of runs, one
    with PID (bench/delay.c) told to add no delay (SIGUSR1), one with its
    delay (SIGUSR2), so that both halves see the same machine load."""
    n, out0, outd, pid = int(args[0]), args[1], args[2], int(args[3])
    if args[4:5] != ["--"] or len(args) < 6:
        print("usage: alternate N OUT0 OUTD PID -- CMD...", file=sys.stderr)
        return 64
    argv = args[5:]
    res = {out0: [], outd: []}
    for i in range(n):
        for out, sig, tag in ((out0, signal.SIGUSR1, "z"),
                              (outd, signal.SIGUSR2, "d")):
            os.kill(pid, sig)
            time.sleep(0.05)  # the other half's last packets are released
            argv_i = [a.replace("%RUN%", f"{i}{tag}") for a in argv]
            res[out].append(one_run(
                argv_i, stdout_path=out + ".stdout.0" if i == 0 else None,
                stderr_path=out + ".stderr"))
    os.kill(pid, signal.SIGUSR2)
    bad = 0
    for out, runs in res.items():
        with open(out, "w") as f:
            json.dump({"argv": argv, "runs": runs}, f, indent=1)
        bad += sum(1 for r in runs if r["rc"] != 0)
    if bad:
        print(f"xsbench: {argv[0]}: {bad} non-zero exits", file=sys.stderr)
        return 1
    return 0


def cmd_rounds(args):
    if len(args) != 3:
        print("usage: rounds N OUT.json SPEC.tsv", file=sys.stderr)
        return 64
    n, out = int(args[0]), args[1]
    spec = []
    with open(args[2]) as f:
        for line in f:
            words = line.rstrip("\n").split("\t")
            if len(words) >= 2:
                spec.append((words[0], words[1:]))
    res = {name: {"argv": argv, "runs": []} for name, argv in spec}
    # Each round in its own order (shuffled, seeded: the same orders every
    # time): a run costs more right after an idle machine than right after
    # another client, and xmppc sleeps 10 s before it exits, so a fixed
    # order would hand that cost to whoever follows xmppc every time.
    rng = random.Random(n)
    for i in range(n):
        order = list(spec)
        rng.shuffle(order)
        for name, argv in order:
            argv_i = [a.replace("%RUN%", str(i)) for a in argv]
            res[name]["runs"].append(one_run(
                argv_i, stderr_path=out + f".{name}.stderr"))
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    bad = {name: sum(1 for r in d["runs"] if r["rc"] != 0)
           for name, d in res.items()}
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        print(f"xsbench: rounds: non-zero exits {bad}", file=sys.stderr)
        return 1
    return 0


def cmd_burst(args):
    out, argsfile = args[0], args[1]
    assert args[2] == "--"
    base = args[3:]
    with open(argsfile) as f:
        jobs = [line.split() for line in f if line.strip()]
    max_attempts = 4
    attempts = [[] for _ in jobs]  # per job: list of result dicts
    errdir = out + ".stderr"
    os.makedirs(errdir, exist_ok=True)
    pending = list(range(len(jobs)))
    t_start = time.monotonic()
    for attempt in range(max_attempts):
        if not pending:
            break
        if attempt:
            time.sleep(1.0 + random.random())  # spread the retries
        r, w = os.pipe()
        pids = {}
        for j in pending:
            pid = os.fork()
            if pid == 0:
                os.close(w)
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
                errf = os.open(f"{errdir}/{j + 1}.{attempt}",
                               os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(errf, 2)
                _exec_child(_timed(base + jobs[j],
                                   f"{errdir}/{j + 1}.{attempt}.time"),
                            barrier_fd=r)
            pids[pid] = j
        os.close(r)
        t0 = time.monotonic()
        os.close(w)  # release them all at once
        deadline = t0 + DEADLINE
        left = dict(pids)
        while left:
            pid, status, _ru = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                if time.monotonic() > deadline:
                    for p in left:
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    deadline = float("inf")
                time.sleep(0.002)
                continue
            if pid not in left:
                continue
            j = left.pop(pid)
            user, sys_, rss = _read_timed(f"{errdir}/{j + 1}.{attempt}.time")
            attempts[j].append({
                "wall": time.monotonic() - t0,
                "user": user, "sys": sys_,
                "maxrss_kib": rss, "rc": _rc(status),
            })
        pending = [j for j in pending if attempts[j][-1]["rc"] == 75]
    total = time.monotonic() - t_start
    for name in os.listdir(errdir):  # keep only what a client complained
        path = os.path.join(errdir, name)
        if os.path.getsize(path) == 0:
            os.unlink(path)
    first = [a[0] for a in attempts]
    final = [a[-1]["rc"] for a in attempts]
    result = {
        "jobs": len(jobs),
        "total_wall": total,
        "first_wave_rcs": _count([a["rc"] for a in first]),
        "final_rcs": _count(final),
        "retried": sum(1 for a in attempts if len(a) > 1),
        "max_attempts_used": max(len(a) for a in attempts),
        "first_wave_wall_median": statistics.median(a["wall"] for a in first),
        "first_wave_wall_max": max(a["wall"] for a in first),
        "cpu_total": sum(x["user"] + x["sys"] for a in attempts for x in a),
        "maxrss_kib_max": max(x["maxrss_kib"] for a in attempts for x in a),
        "attempts": attempts,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    return 0 if all(rc == 0 for rc in final) else 1


def _count(values):
    d = {}
    for v in values:
        d[str(v)] = d.get(str(v), 0) + 1
    return d


async def _pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def read_side():
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    async def write_side():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read_side(), write_side())


async def _serve(lport, tport, delay, ready_file):
    async def handle(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1",
                                                             tport)
        except OSError:
            cwriter.close()
            return
        for w in (cwriter, swriter):
            sock = w.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.gather(_pump(creader, swriter, delay),
                                 _pump(sreader, cwriter, delay))
        except (ConnectionError, OSError):
            pass
        finally:
            cwriter.close()
            swriter.close()

    server = await asyncio.start_server(handle, "127.0.0.1", lport,
                                        reuse_address=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stop.set_result, None)
    with open(ready_file, "w") as f:
        f.write(f"{os.getpid()}\n")
    await stop
    os._exit(0)  # open connections die with the process


def cmd_proxy(args):
    lport, tport, delay_ms, ready = int(args[0]), int(args[1]), \
        float(args[2]), args[3]
    asyncio.run(_serve(lport, tport, delay_ms / 1000.0, ready))
    return 0


def cmd_calibrate(args):
    """DELAY_MS OUT.json: the relay's real round-trip time, measured with
    a 1-byte echo through a relay process exactly like the one the clients
    use (it includes the relay's timer and wake-up latency)."""
    import threading
    import subprocess
    import tempfile
    delay_ms, out = float(args[0]), args[1]
    echo = socket.socket()
    echo.bind(("127.0.0.1", 0))
    echo.listen()
    eport = echo.getsockname()[1]

    def serve():
        c, _ = echo.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = c.recv(100)
            if not d:
                return
            c.sendall(d)

    threading.Thread(target=serve, daemon=True).start()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    lport = probe.getsockname()[1]
    probe.close()
    with tempfile.TemporaryDirectory() as tmp:
        ready = os.path.join(tmp, "ready")
        relay = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                  "proxy", str(lport), str(eport),
                                  str(delay_ms), ready])
        try:
            for _ in range(200):
                if os.path.exists(ready) and os.path.getsize(ready):
                    break
                time.sleep(0.02)
            c = socket.create_connection(("127.0.0.1", lport), timeout=30)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            n = 10
            t0 = time.monotonic()
            for _ in range(n):
                c.sendall(b"x")
                if c.recv(10) != b"x":
                    raise RuntimeError("echo through the relay failed")
            rtt = (time.monotonic() - t0) / n
            c.close()
        finally:
            relay.terminate()
            relay.wait(10)
    with open(out, "w") as f:
        json.dump({"delay_ms": delay_ms, "rtt": rtt}, f)
    return 0


def cmd_bigbody(args):
    size, path = int(args[0]), args[1]
    rnd = random.Random(20240501)
    raw = bytes(rnd.getrandbits(8) for _ in range(size))
    text = base64.encodebytes(raw)[:size]  # 76-column lines
    if text.endswith(b"\n"):
        text = text[:-1] + b"A"
    with open(path, "wb") as f:
        f.write(text)
    return 0


# ---------------------------------------------------------------- checks

def cmd_verify_burst(args):
    """N PREFIX BOB CAROL: odd i went to bob, even i to carol, each once."""
    n, prefix, bobf, carolf = int(args[0]), args[1], args[2], args[3]
    problems = []
    counts = {}
    for user, path in (("bob", bobf), ("carol", carolf)):
        with open(path) as f:
            for line in f:
                body = line.rstrip("\n")
                if body.startswith(prefix):
                    counts[(user, body)] = counts.get((user, body), 0) + 1
    missing = dup = wrong = 0
    for i in range(1, n + 1):
        user = "bob" if i % 2 else "carol"
        c = counts.pop((user, f"{prefix}{i}"), 0)
        if c == 0:
            missing += 1
        elif c > 1:
            dup += 1
    wrong = len(counts)  # bodies in the wrong store or not sent at all
    if missing or dup or wrong:
        print(f"PROBLEM: {n - missing - dup} of {n} bodies stored once, "
              f"{missing} missing, {dup} duplicated, {wrong} unexpected")
        return 1
    print(f"all {n} unique bodies stored exactly once "
          f"({(n + 1) // 2} bob, {n // 2} carol), none lost or duplicated")
    return 0


# ---------------------------------------------------------------- summary

def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _ms(x):
    return f"{x * 1000:.1f} ms"


def _runs_median(doc, key):
    if not doc or not doc.get("runs"):
        return None
    vals = [r[key] if key != "cpu" else r["user"] + r["sys"]
            for r in doc["runs"] if r["rc"] == 0]
    return statistics.median(vals) if vals else None


def collect(d):
    facts = {}
    with open(os.path.join(d, "facts.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            facts[k] = v
    delay = float(facts.get("rt_delay_ms", "50"))
    cal = _load(os.path.join(d, f"calibrate{int(delay)}.json")) or {}
    cal0 = _load(os.path.join(d, "calibrate0.json")) or {}
    rtt = cal.get("rtt", 2 * delay / 1000)  # the relay's measured RTT
    rtt0 = cal0.get("rtt", 0.0)
    tools = {}
    for name in ("xmppsend", "go-sendxmpp", "sendxmpp", "xmppc"):
        t = {"status": facts.get(f"status.{name}", "missing"),
             "reason": facts.get(f"reason.{name}", "")}
        hf = _load(os.path.join(d, f"hf-{name}.json"))
        if t["status"] == "ok" and hf:
            r = hf["results"][0]
            t.update(runs=len(r["times"]), wall_mean=r["mean"],
                     wall_sd=r["stddev"] or 0.0, wall_median=r["median"],
                     cpu_mean=r["user"] + r["system"])
            t["stored"] = int(facts.get(f"stored.{name}", "0"))
            t["expected"] = int(facts.get(f"expected.{name}", "0"))
            t["proto"] = facts.get(f"proto.{name}", "?")
            rt0 = _load(os.path.join(d, f"rt0-{name}.json"))
            rt1 = _load(os.path.join(d, f"rt{int(delay)}-{name}.json"))
            t["rss_kib"] = _runs_median(rt0, "maxrss_kib")
            w0, w1 = _runs_median(rt0, "wall"), _runs_median(rt1, "wall")
            if w0 is not None and w1 is not None:
                t["data_round_trips"] = (w1 - w0) / (rtt - rtt0)
                t["round_trips"] = t["data_round_trips"] + 1  # TCP handshake
                t["wall_relay0"], t["wall_relayd"] = w0, w1
            if t["rss_kib"] is None:
                t["status"] = "failed"
                t["reason"] = "no successful run through the relay"
        elif t["status"] == "ok":
            t["status"] = "failed"
            t["reason"] = "no hyperfine result"
        tools[name] = t
    res = {"facts": facts, "rt_delay_ms": delay, "relay_rtt": rtt,
           "relay_rtt0": rtt0, "cost": tools}
    rd = _load(os.path.join(d, "rounds.json"))
    if rd:
        res["rounds"] = {
            name: {"runs": len(v["runs"]),
                   "ok": sum(1 for r in v["runs"] if r["rc"] == 0),
                   "cpu_median": _runs_median(v, "cpu"),
                   "user_median": _runs_median(v, "user"),
                   "sys_median": _runs_median(v, "sys"),
                   "rss_median": _runs_median(v, "maxrss_kib")}
            for name, v in rd.items()}
    b = _load(os.path.join(d, "burst.json"))
    if b:
        b.pop("attempts", None)
        b["verify"] = facts.get("burst.verify", "?")
        res["burst"] = b
    c = _load(os.path.join(d, "big.json"))
    if c and c.get("runs"):
        r = c["runs"][0]
        res["big"] = {"rc": r["rc"], "wall": r["wall"],
                      "cpu": r["user"] + r["sys"], "rss_kib": r["maxrss_kib"],
                      "verify": facts.get("big.verify", "?")}
    f = _load(os.path.join(d, "fanout.json"))
    if f and f.get("runs"):
        r = f["runs"][0]
        res["fanout"] = {"recipients": int(facts.get("fanout.recipients", 0)),
                         "rc": r["rc"], "wall": r["wall"],
                         "cpu": r["user"] + r["sys"],
                         "rss_kib": r["maxrss_kib"],
                         "sent_lines": int(facts.get("fanout.sent_lines", 0)),
                         "verify": facts.get("fanout.verify", "?")}
    res["verdict"] = facts.get("verdict", "?")
    return res


def cmd_summary(args):
    d = args[0]
    R = collect(d)
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(R, f, indent=1)
    facts = R["facts"]
    out = []
    p = out.append
    p("xmppsend benchmark summary")
    p("")
    for k in ("date", "xmppsend", "prosody", "peers", "cpu", "kernel",
              "load", "namespace", "nagle", "loglevel"):
        if k in facts:
            p(f"{k + ':':11} {facts[k]}")
    p("")
    p("a. one send, alice -> sink@localhost (offline), STARTTLS to Prosody "
      "on 127.0.0.1")
    p("")
    p("| client | wall: mean ± sd (median), runs | vs xmppsend | CPU user+sys"
      " | vs xmppsend | peak RSS | vs xmppsend | round trips | negotiated |")
    p("|---|---|---|---|---|---|---|---|---|")
    tools = R["cost"]
    ref = tools.get("xmppsend") if tools.get("xmppsend", {}).get(
        "status") == "ok" else None

    def ratio(t, key):
        if not ref or not ref.get(key) or t.get(key) is None:
            return "n/a"
        return f"{t[key] / ref[key]:.2f}x"

    for name, t in tools.items():
        if t["status"] != "ok":
            p(f"| {name} | not measured: {t['reason']} | | | | | | | |")
            continue
        rt = t.get("round_trips")
        rts = f"{rt:.1f}" if rt is not None else "n/a"
        rss = f"{t['rss_kib'] / 1024:.1f} MiB"
        p(f"| {name} | {_ms(t['wall_mean'])} ± {t['wall_sd'] * 1000:.1f} "
          f"(median {t['wall_median'] * 1000:.1f}), n={t['runs']} "
          f"| {ratio(t, 'wall_mean')} "
          f"| {_ms(t['cpu_mean'])} | {ratio(t, 'cpu_mean')} | {rss} "
          f"| {ratio(t, 'rss_kib')} | {rts} | {t['proto']} |")
    p("")
    ok = [n for n, t in tools.items() if t["status"] == "ok"]
    p("   messages found in the server's store after the timed runs: " +
      ", ".join(f"{n} {tools[n]['stored']}/{tools[n]['expected']}"
                for n in ok))
    p("   round trips: (median wall through a relay adding "
      f"{2 * R['rt_delay_ms']:.0f} ms RTT - median wall through it adding 0)")
    p(f"   / (its measured RTT {R['relay_rtt'] * 1000:.1f} ms - "
      f"{R['relay_rtt0'] * 1000:.2f} ms), + 1 for the TCP handshake, which "
      "the relay cannot delay")
    rd = R.get("rounds")
    if rd:
        n = max(v["runs"] for v in rd.values())
        p("")
        p(f"a2. CPU per send, the clients taking turns ({n} rounds, each "
          "client once per round, each round in its own order, so that all "
          "see the same load and follow each other); medians of successful "
          "runs")
        p("")
        p("| client | CPU user+sys | user | sys | vs xmppsend | "
          "peak RSS | ok runs |")
        p("|---|---|---|---|---|---|---|")
        xs = rd.get("xmppsend", {}).get("cpu_median")
        for name, v in rd.items():
            if v["cpu_median"] is None:
                p(f"| {name} | no successful run | | | | | 0/{v['runs']} |")
                continue
            r = f"{v['cpu_median'] / xs:.2f}x" if xs else "n/a"
            p(f"| {name} | {_ms(v['cpu_median'])} | {_ms(v['user_median'])}"
              f" | {_ms(v['sys_median'])} | {r} | "
              f"{v['rss_median'] / 1024:.1f} MiB | {v['ok']}/{v['runs']} |")
        facts = R["facts"]
        p("")
        p("   messages found in the server's store after the rounds: " +
          ", ".join(f"{name} {facts.get('rounds.stored.' + name, '?')}/"
                    f"{v['runs']}" for name, v in rd.items()
                    if name != "floor"))
        fl = rd.get("floor", {}).get("cpu_median")
        if fl:
            p("   floor: a program linked with GnuTLS, libxml2 and ICU as "
              "xmppsend is, which exits at once (bench/floor.c); xmppsend "
              f"above it: {_ms(xs - fl) if xs else 'n/a'}")
        peers = [(v["cpu_median"], name) for name, v in rd.items()
                 if name not in ("xmppsend", "floor") and v["cpu_median"]]
        if xs and peers:
            best = min(peers)
            p("")
            p(f"   xmppsend / the peer with the least CPU ({best[1]}): "
              f"{xs / best[0]:.2f}x")
    b = R.get("burst")
    if b:
        p("")
        p(f"b. cron burst: {b['jobs']} xmppsend processes released at once "
          "(bob/carol alternating, unique bodies)")
        p(f"   first-wave exits {b['first_wave_rcs']}, retried after 75: "
          f"{b['retried']}, final exits {b['final_rcs']}")
        p(f"   all done after {b['total_wall']:.2f} s; per process wall "
          f"median {b['first_wave_wall_median']:.2f} s, max "
          f"{b['first_wave_wall_max']:.2f} s; CPU of all clients "
          f"{b['cpu_total']:.2f} s; largest peak RSS "
          f"{b['maxrss_kib_max'] / 1024:.1f} MiB")
        p(f"   offline store: {b['verify']}")
    c = R.get("big")
    if c:
        p("")
        p(f"c. 1 MiB body on stdin to bob: exit {c['rc']}, wall "
          f"{c['wall']:.2f} s, CPU {_ms(c['cpu'])}, peak RSS "
          f"{c['rss_kib'] / 1024:.1f} MiB; stored body {c['verify']}")
    f = R.get("fanout")
    if f:
        p("")
        p(f"d. {f['recipients']} recipients in one run: exit {f['rc']}, "
          f"{f['sent_lines']} 'sent' lines, wall {f['wall']:.2f} s, "
          f"CPU {_ms(f['cpu'])}, peak RSS {f['rss_kib'] / 1024:.1f} MiB")
        p(f"   offline store: {f['verify']}")
    p("")
    p(f"verdict: {R['verdict']}")
    print("\n".join(out))
    return 0


def main():
    global DEADLINE
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--deadline":
        DEADLINE = float(args[1])
        args = args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 64
    cmds = {"runs": cmd_runs, "alternate": cmd_alternate,
            "rounds": cmd_rounds,
            "burst": cmd_burst, "proxy": cmd_proxy,
            "bigbody": cmd_bigbody, "verify-burst": cmd_verify_burst,
            "calibrate": cmd_calibrate,
            "summary": cmd_summary}
    if args[0] not in cmds:
        print(__doc__, file=sys.stderr)
        return 64
    return cmds[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
