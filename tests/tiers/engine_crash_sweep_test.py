"""The engine-crash scenario swept over seeds 1..N must pass every seed: N = 500 (the issue's
sweep) in the normal build; the sanitizer build, ~13x slower, sweeps fewer (its second argument)."""
import subprocess
import sys

SIM = sys.argv[1]
SEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
proc = subprocess.run([SIM, "--scenario", "engine-crash", "--seeds", f"1..{SEEDS}"],
                      capture_output=True, text=True, timeout=1500)
lines = proc.stdout.strip().splitlines()
for line in lines[-12:]:
    print(line)
ok = proc.returncode == 0 and lines and lines[-1] == f"seeds: {SEEDS} passed, 0 failed"
print("engine-crash sweep:", "passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
