"""The engine-crash scenario swept over seeds 1..500 must pass every seed."""
import subprocess
import sys

SIM = sys.argv[1]
proc = subprocess.run([SIM, "--scenario", "engine-crash", "--seeds", "1..500"], capture_output=True,
                      text=True, timeout=1200)
lines = proc.stdout.strip().splitlines()
for line in lines[-12:]:
    print(line)
ok = proc.returncode == 0 and lines and lines[-1] == "seeds: 500 passed, 0 failed"
print("engine-crash sweep:", "passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
