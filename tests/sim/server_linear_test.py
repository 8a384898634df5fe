"""The server-linear scenario (the real node under RESP clients, crashes and faults, checked for
linearizability): seeds 1..N must all pass, N = 200 (the issue's sweep) in the normal build and
fewer in the sanitizer build (its second argument); and the unsafe variant (appendfsync no, so
crashes lose acknowledged writes) must be caught on some of 10 seeds, or the checker is blind."""
import re
import subprocess
import sys

SIM = sys.argv[1]
SEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 200


def sweep(scenario, seeds):
    proc = subprocess.run([SIM, "--scenario", scenario, "--seeds", f"1..{seeds}"],
                          capture_output=True, text=True, timeout=1200)
    lines = [line for line in proc.stdout.strip().splitlines() if line]
    for line in lines[-6:]:
        print(line[:300])
    summary = re.fullmatch(r"seeds: (\d+) passed, (\d+) failed", lines[-1]) if lines else None
    return proc.returncode, summary


code, summary = sweep("server-linear", SEEDS)
ok = code == 0 and summary is not None and summary.group(1) == str(SEEDS)
print("server-linear sweep:", "passed" if ok else "FAILED")
code, summary = sweep("server-linear-unsafe", 10)
caught = code != 0 and summary is not None and int(summary.group(2)) > 0
print("server-linear-unsafe caught:", "yes" if caught else "NO")
sys.exit(0 if ok and caught else 1)
