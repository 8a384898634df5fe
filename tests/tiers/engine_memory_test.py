"""The engine's memory bound: with data about ten times its memory budget (EngineOptions::
memory_bytes, the shard's share of maxmemory), the process's RSS may grow at most by the budget
plus a fixed overhead (fiber stacks, the WAL buffer, code and allocator slack: 16 MiB, as
docs/storage.md says), through a load, random reads and random writes. Runs `tierkv-bench engine`
(tierkv only) and reads the peak RSS growth it reports."""
import re
import shutil
import subprocess
import sys
import tempfile

BUDGET_MIB = 64
OVERHEAD_MIB = 16


def main():
    bench = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="tierkv-memory-")
    try:
        cmd = [bench, "engine", "--engines", "tierkv", "--keys", "4000000", "--value-size", "100",
               "--maxmemory-mb", str(BUDGET_MIB), "--workloads", "read,write", "--ops", "150000",
               "--phase-seconds", "4", "--sync", "no", "--dir", tmp + "/bench"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        print(run.stdout)
        if run.returncode != 0:
            print(run.stderr[-3000:])
            print("FAIL: the benchmark failed")
            return 1
        peaks = [float(m) for m in re.findall(r"peak growth ([\d.]+) MiB", run.stdout)]
        disk = re.search(r"disk bytes after load\s*\|\s*tierkv\s*\|\s*([\d.]+) MiB", run.stdout)
        if len(peaks) != 2 or not disk:
            print("FAIL: no RSS or disk rows in the output")
            return 1
        data_mib = float(disk.group(1))
        print(f"data {data_mib:.0f} MiB on disk, budget {BUDGET_MIB} MiB, "
              f"peak RSS growth {max(peaks):.1f} MiB (bound {BUDGET_MIB + OVERHEAD_MIB} MiB)")
        if data_mib < 8 * BUDGET_MIB:
            print("FAIL: the data set is not much larger than the budget")
            return 1
        if max(peaks) > BUDGET_MIB + OVERHEAD_MIB:
            print("FAIL: RSS grew past the budget plus the fixed overhead")
            return 1
        print("PASS")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
