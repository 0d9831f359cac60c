"""Timing helpers shared by the benchmark scripts."""
import statistics
import subprocess
import sys
import time


def time_command(argv, runs, env=None):
    """Runs a command `runs` times; returns the wall times in ms and the last stdout. Exits if it fails."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        samples.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            sys.exit(f"{argv} failed: {done.stderr.decode()}")
    return samples, done.stdout.decode()


def summary(samples):
    return f"median {statistics.median(samples):7.1f} ms  (min {min(samples):.1f}, max {max(samples):.1f}, n={len(samples)})"


async def warm_counts(q, runs):
    """Times the client's getJobCounts `runs` times on a queue already connected; returns ms and the last counts."""
    await q.getJobCounts()  # connect (and load scripts or check migrations) first
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        counts = await q.getJobCounts()
        samples.append((time.perf_counter() - start) * 1000)
    await q.close()
    return samples, counts
