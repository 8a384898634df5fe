"""tierkv-sim end to end: determinism of the trace hash, sweeps, and a checker that can fail."""
import re
import subprocess
import sys

SIM = sys.argv[1]


def run(*args):
    proc = subprocess.run([SIM, *args], capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout.strip().splitlines()


def trace_hash(scenario, seed):
    code, lines = run("--scenario", scenario, "--seed", str(seed))
    match = re.fullmatch(r"trace-hash: ([0-9a-f]{16})", lines[-1])
    assert match, f"last line is not a trace hash: {lines[-1]!r}"
    return code, match.group(1)


failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


code, h1 = trace_hash("ping-pong", 7)
_, h1_again = trace_hash("ping-pong", 7)
_, h2 = trace_hash("ping-pong", 8)
check(code == 0, "ping-pong seed 7 passes")
check(h1 == h1_again, f"same seed, same trace hash ({h1} == {h1_again})")
check(h1 != h2, f"different seeds, different trace hashes ({h1} != {h2})")

code, lines = run("--scenario", "ping-pong", "--seeds", "1..40")
check(code == 0 and lines[-1] == "seeds: 40 passed, 0 failed", f"sweep 1..40: {lines[-1]}")
check(any(line.startswith("speed: ") for line in lines), "sweep prints its speed")

# The deliberately broken variant (ack before fsync) must be caught, with a replay line per failure.
code, lines = run("--scenario", "ping-pong-unsafe", "--seeds", "1..60")
summary = re.fullmatch(r"seeds: (\d+) passed, (\d+) failed", lines[-1])
check(code != 0 and summary and int(summary.group(2)) > 0, f"unsafe variant is caught: {lines[-1]}")
replays = [l.split("replay: ")[1] for l in lines if "replay: " in l]
check(len(replays) == int(summary.group(2)), "one replay command per failure")
if replays:
    seed = replays[0].split("--seed ")[1]
    code_a, hash_a = trace_hash("ping-pong-unsafe", seed)
    code_b, hash_b = trace_hash("ping-pong-unsafe", seed)
    check(code_a != 0 and code_b != 0 and hash_a == hash_b,
          f"replaying seed {seed} fails again with the same trace hash")

code, lines = run("--scenario", "no-such-scenario", "--seed", "1")
check(code == 2, "unknown scenario is a usage error")

print(f"{len(failures)} checks failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
