"""Fault trials for the store: kill -9 in every phase, concurrent scans, a locked database, a full disk.

Every trial runs the real ``bin/scan`` (``python -m actors.cli``) as a subprocess on its own
database, with ``--source sim`` and bin/fake-ollama (latency per reply) so the debate phase lasts.
It prints one table per fault with counts of what was saved, what was reported and what was lost:

- *kill -9*: rows visible in the database just before SIGKILL (acknowledged) vs rows after the
  next ``bin/scan``'s start-up recovery; the run must be INTERRUPTED with ``finished_at``, a reason
  naming the phase, and debate counts equal to its saved rows; no lease file may remain.
- *concurrent*: 2 or 3 scans started together (or a few tenths apart) on one database; each must
  exit 0 with its own run COMPLETED and its own ticker count.
- *locked* / *disk full*: ``--json`` against the database: every thesis the report calls saved must
  be in the database, every thesis not in the database must be shown ``saved: false``, the run
  must not be COMPLETED, and its reason (or the unsaved list) must name what was not saved.

Usage: ``.venv/bin/python bench/store_faults.py [--kills-per-phase 20] [--trials 5] [--seed 1]``.
Takes several minutes; run it once, not in a loop (the machine is shared).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import apsw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.fakes.ollama_testing import FakeOllama  # noqa: E402
from actors.store.owners import owners_directory  # noqa: E402
from tests.e2e.db_poll import rows  # noqa: E402

PHASES = ("data_fetch", "scoring", "catalysts", "options", "persist", "ai_debate")
COUNTED = ("ticker_scores", "options_recommendations", "ai_theses", "debates", "run_phases")


def _env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_STATE_HOME": str(home / "s"),
            "XDG_CONFIG_HOME": str(home / "c"), "PYTHONPATH": str(ROOT)}


def start_scan(home: Path, db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "actors.cli", "--db", str(db), *args], cwd=ROOT, env=_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def counts(db: Path, run_id: str) -> dict[str, int]:
    return {t: rows(db, f"SELECT count(*) FROM {t} WHERE run_id = ?", (run_id,))[0][0] for t in COUNTED}


def wait_until(predicate, timeout: float = 120.0, poll: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except apsw.Error:
            pass
        time.sleep(poll)
    return False


def debate_args(fake: FakeOllama) -> list[str]:
    return ["--set", f"ollama_host={fake.url}", "--set", "top_n_ai_debate=6", "--set", "ai_debate_concurrency=2",
            "--set", "ai_retry_delays=0.1"]


# -- kill -9 -------------------------------------------------------------------------------------

def kill_trial(home: Path, fake: FakeOllama, target: str, rng: random.Random) -> dict:
    db = home / f"kill-{target}-{rng.random():.9f}.db"
    proc = start_scan(home, db, "--source", "sim", "--universe-size", "1500", "--seed", str(rng.randrange(99)),
                      "--json", *debate_args(fake))
    run_id = None

    def recorded() -> set[str]:
        return {r[0] for r in rows(db, "SELECT phase FROM run_phases")}

    def run_exists() -> bool:
        nonlocal run_id
        found = rows(db, "SELECT id FROM scan_runs") if db.exists() else []
        run_id = found[0][0] if found else None
        return run_id is not None

    ok = wait_until(run_exists)
    index = PHASES.index(target)
    if ok and index > 0:  # every phase before the target recorded
        before = set(PHASES[: index if target != "scoring" else 1])
        ok = wait_until(lambda: before <= recorded())
    if ok:
        time.sleep(rng.uniform(0.0, {"data_fetch": 1.5, "ai_debate": 1.5, "options": 0.2}.get(target, 0.0)))
    acked = counts(db, run_id) if run_id else {}
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    dead_lease = [p.name for p in owners_directory(db).glob("*.lock")]
    recovery = start_scan(home, db, "--source", "sim", "--universe-size", "20", "--no-debate", "--json")
    out, _ = recovery.communicate(timeout=120)
    follow = json.loads(out) if recovery.returncode == 0 else {}
    result = {"target": target, "run_id": run_id, "follow_ok": follow.get("status") == "COMPLETED"}
    if run_id is None:
        result.update(phase="before BeginRun", ok=result["follow_ok"], lost=0, saved=0, theses=0)
        return result
    status, reason, finished, req, done = rows(
        db, "SELECT status, status_reason, finished_at, debates_requested, debates_completed FROM scan_runs WHERE id = ?",
        (run_id,))[0]
    after = counts(db, run_id)
    tickers = rows(db, "SELECT count(*) FROM (SELECT ticker FROM debates WHERE run_id = ?1"
                       " UNION SELECT ticker FROM ai_theses WHERE run_id = ?1)", (run_id,))[0][0]
    completed = rows(db, "SELECT count(*) FROM debates WHERE run_id = ? AND status = 'completed'", (run_id,))[0][0]
    phase = (reason or "").split("during the ")[-1].split(" phase")[0] if reason and "during the" in reason else "?"
    if reason and "after its last phase" in reason:
        phase = "finish"
    finished_cleanly = status in ("COMPLETED", "PARTIAL") and finished is not None  # the kill came too late
    reported = finished_cleanly or (status == "INTERRUPTED" and finished is not None and phase in (*PHASES, "finish")
                                    and (req, done) == (tickers, completed))
    lost = sum(max(0, acked.get(t, 0) - after[t]) for t in COUNTED)
    result.update(phase="after the end" if finished_cleanly else phase, reported=reported, lost=lost,
                  saved=after["ticker_scores"], theses=after["ai_theses"],
                  leases_left=len(list(owners_directory(db).glob("*.lock"))), had_lease=bool(dead_lease))
    result["ok"] = reported and lost == 0 and result["follow_ok"] and result["leases_left"] == 0
    return result


# -- concurrent scans ----------------------------------------------------------------------------

def concurrent_trial(home: Path, n: int, rng: random.Random) -> dict:
    db = home / f"conc-{n}-{rng.random():.9f}.db"
    sizes = [rng.choice((3000, 1500, 800)), 200, 50][:n]
    procs = []
    for size in sizes:
        procs.append(start_scan(home, db, "--source", "sim", "--universe-size", str(size), "--no-debate", "--json"))
        time.sleep(rng.uniform(0.0, 1.5))
    outs = [p.communicate(timeout=300) for p in procs]
    good = 0
    for proc, (out, _), size in zip(procs, outs, sizes):
        if proc.returncode != 0:
            continue
        report = json.loads(out)
        stored = rows(db, "SELECT status, tickers_scored FROM scan_runs WHERE id = ?", (report["run_id"],))
        good += report["status"] == "COMPLETED" and stored == [("COMPLETED", size)]
    return {"scans": n, "ok_runs": good, "ok": good == n,
            "leases_left": len(list(owners_directory(db).glob("*.lock")))}


# -- locked database and full disk: saved vs reported ---------------------------------------------

def audit(db: Path, report: dict) -> dict:
    """Compare --json with the database: saved-but-claimed-unsaved, unsaved-but-claimed-saved, lost."""
    run_id = report["run_id"]
    stored = collections.Counter(rows(db, "SELECT ticker, role FROM ai_theses WHERE run_id = ?", (run_id,)))
    claimed = collections.Counter()
    shown_unsaved = 0
    for r in report["results"]:
        for t in (r.get("debate") or {}).get("theses", []):
            if t["saved"]:
                claimed[(r["ticker"], t["role"])] += 1
            else:
                shown_unsaved += 1
    db_status = rows(db, "SELECT status FROM scan_runs WHERE id = ?", (run_id,))[0][0]
    return {
        "theses_saved": sum(stored.values()),
        "shown_unsaved": shown_unsaved,
        "unsaved_claimed_saved": sum((claimed - stored).values()),
        "saved_not_shown": sum((stored - claimed).values()),
        "status": report["status"],
        "db_status": db_status,
        "reason_names_it": bool(report.get("unsaved")) and "not saved" in (report.get("reason") or "") or
        report["status"] == "FAILED" and bool(report.get("unsaved")),
    }


def locked_trial(home: Path, fake: FakeOllama, rng: random.Random) -> dict:
    db = home / f"locked-{rng.random():.9f}.db"
    proc = start_scan(home, db, "--source", "sim", "--universe-size", "40", "--json", *debate_args(fake),
                      "--set", "store_busy_timeout=0.1", "--set", "store_busy_retry_delays=0.1,0.2")
    wait_until(lambda: db.exists() and rows(db, "SELECT count(*) FROM ai_theses")[0][0] >= rng.randint(1, 9))
    conn = apsw.Connection(str(db))
    conn.set_busy_timeout(10000)
    conn.execute("BEGIN IMMEDIATE")
    time.sleep(rng.uniform(1.5, 3.0))
    conn.execute("ROLLBACK")
    conn.close()
    out, _ = proc.communicate(timeout=300)
    result = {"exit": proc.returncode, **audit(db, json.loads(out))}
    result["ok"] = _audit_ok(result)
    return result


def disk_full_trial(home: Path, fake: FakeOllama, where: str, rng: random.Random) -> dict:
    db = home / f"full-{where}-{rng.random():.9f}.db"
    if where == "checkpoint":
        proc = start_scan(home, db, "--demo", "--no-debate", "--json", "--set", "store_max_size_mb=0.1")
    else:
        proc = start_scan(home, db, "--source", "sim", "--universe-size", "40", "--json", *debate_args(fake),
                          "--set", "store_max_size_mb=1")
        wait_until(lambda: db.exists() and rows(db, "SELECT count(*) FROM ai_theses")[0][0] >= rng.randint(1, 9))
        conn = apsw.Connection(str(db))
        conn.set_busy_timeout(10000)
        pages = conn.execute("PRAGMA page_count").fetchall()[0][0]
        conn.execute("CREATE TABLE filler (b BLOB)")
        conn.execute("INSERT INTO filler VALUES (zeroblob(?))", ((256 - pages) * 4096,))
        conn.close()
    out, _ = proc.communicate(timeout=300)
    report = json.loads(out)
    result = {"exit": proc.returncode, **audit(db, report)}
    if where == "checkpoint":
        result["results_shown_unsaved"] = sum(1 for r in report["results"] if not r["saved"])
        result["scores_saved"] = rows(db, "SELECT count(*) FROM ticker_scores")[0][0]
    result["ok"] = _audit_ok(result) and (where != "checkpoint" or result["exit"] == 1 and
                                          result["results_shown_unsaved"] == 200 and result["scores_saved"] == 0)
    return result


def _audit_ok(r: dict) -> bool:
    return (r["unsaved_claimed_saved"] == 0 and r["saved_not_shown"] == 0 and r["status"] != "COMPLETED"
            and r["reason_names_it"])


# -- main --------------------------------------------------------------------------------------

def table(title: str, header: list[str], lines: list[list]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in lines:
        print("| " + " | ".join(str(x) for x in line) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills-per-phase", type=int, default=20)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="store-faults-") as tmp, FakeOllama(latency_first=0.15) as fake:
        home = Path(tmp)
        kills = [kill_trial(home, fake, target, rng) for target in PHASES for _ in range(args.kills_per_phase)]
        by_phase: dict[str, list[dict]] = collections.defaultdict(list)
        for k in kills:
            by_phase[k["phase"]].append(k)
        table("kill -9, then the next bin/scan's start-up recovery (rows acknowledged before the kill vs after)",
              ["died in", "trials", "run finished correctly", "scores saved", "theses saved", "acked rows lost",
               "lease files left", "next scan COMPLETED"],
              [[p, len(ks), sum(bool(k.get("reported", k["ok"])) for k in ks), sum(k["saved"] for k in ks),
                sum(k["theses"] for k in ks),
                sum(k["lost"] for k in ks), sum(k.get("leases_left", 0) for k in ks), sum(k["follow_ok"] for k in ks)]
               for p, ks in sorted(by_phase.items(), key=lambda kv: (PHASES + ("finish", "after the end")).index(kv[0])
                                   if kv[0] in PHASES + ("finish", "after the end") else -1)])
        conc = [concurrent_trial(home, n, rng) for n in (2, 3) for _ in range(args.trials)]
        table("concurrent scans on one database", ["scans", "trials", "runs with their own correct status",
                                                    "lease files left"],
              [[n, sum(c["scans"] == n for c in conc), f"{sum(c['ok_runs'] for c in conc if c['scans'] == n)}"
                f"/{n * sum(c['scans'] == n for c in conc)}", sum(c["leases_left"] for c in conc if c["scans"] == n)]
               for n in (2, 3)])
        faults = [("locked mid-debate", locked_trial(home, fake, rng)) for _ in range(args.trials)]
        faults += [("disk full at checkpoint", disk_full_trial(home, fake, "checkpoint", rng)) for _ in range(args.trials)]
        faults += [("disk full mid-debate", disk_full_trial(home, fake, "debate", rng)) for _ in range(args.trials)]
        lines = []
        for name in ("locked mid-debate", "disk full at checkpoint", "disk full mid-debate"):
            fs = [f for n, f in faults if n == name]
            lines.append([name, len(fs), sum(f["theses_saved"] for f in fs), sum(f["shown_unsaved"] for f in fs),
                          sum(f.get("results_shown_unsaved", 0) for f in fs),
                          sum(f["unsaved_claimed_saved"] for f in fs), sum(f["saved_not_shown"] for f in fs),
                          " ".join(sorted({f"{f['status']}/{f['exit']}" for f in fs})), sum(f["ok"] for f in fs)])
        table("storage faults (--json vs the database)",
              ["fault", "trials", "theses saved", "theses shown unsaved", "results shown unsaved",
               "unsaved shown as saved", "saved not shown", "status/exit", "trials ok"], lines)
        bad = [k for k in kills if not k["ok"]] + [c for c in conc if not c["ok"]] + [f for _, f in faults if not f["ok"]]
        print(f"\n{len(kills) + len(conc) + len(faults)} trials in {time.monotonic() - started:.0f} s; "
              f"{len(bad)} not ok")
        for b in bad[:10]:
            print("  not ok:", b)


if __name__ == "__main__":
    main()
