"""The ``json`` channel on large arrays: the streaming reader against the whole-text reader it
replaced, time and peak memory, in the same run.

    .venv/bin/python benchmarks/bench_json_array.py [--sizes 10000,20000,40000,200000]
        [--big-mb 105] [--timeout 60] [--seed 1]

Writes, in a temporary directory, JSON arrays of generated work orders (``zhenshen corpus``'s
generator, one element per line) of each size, and one pretty-printed array (``indent=2``, an
element over some 30 lines) of at least ``--big-mb`` MB. Each file is read by each reader in a
process of its own, so that its peak resident memory (``ru_maxrss``) is its own; the reader's
records are counted and dropped as the intake pipeline does (it holds one batch of 500), so
what is measured is reading: splitting the array, parsing each element, its line and its text.

* ``whole text`` — the reader before issue 15: the file read into one string, each element
  parsed with ``raw_decode`` and its line found by counting newlines from the start of the
  file (quadratic), every element's text sliced out;
* ``streaming`` — :func:`zhenshen_core.intake.read_json` today: 1 MiB chunks, lines counted
  between elements, what was parsed dropped.

A reader still running after ``--timeout`` seconds is stopped and reported as such. Both must
give the same records (count, last line) where both finish, or the run stops.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "plugins/zhenshen-chengdu-gaoxin/src"))


def whole_text_records(source: str) -> Iterator[tuple[int, str, Any]]:
    """The reader the ``json`` channel had before issue 15 (kept here to compare with)."""
    from zhenshen_core.textio import open_stream

    with open_stream(source) as stream:
        text = stream.read()
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(0)
    if i >= len(text) or text[i] != "[":
        raise SystemExit("the benchmark writes arrays")
    i = skip(i + 1)
    while i < len(text) and text[i] != "]":
        line = text.count("\n", 0, i) + 1
        value, end = decoder.raw_decode(text, i)
        yield line, text[i:end], value
        i = skip(end)
        if i < len(text) and text[i] == ",":
            i = skip(i + 1)


def streaming_records(source: str) -> Iterator[tuple[int, str, Any]]:
    from zhenshen_core.intake import read_json

    for record in read_json(source):
        yield record.line or 0, record.raw, record.data


def child(reader: str, source: str) -> None:
    """Read ``source`` with ``reader``; print records, last line, seconds and peak RSS."""
    read = whole_text_records if reader == "whole" else streaming_records
    started = time.perf_counter()
    count = last = 0
    for line, _raw, _value in read(source):
        count += 1
        last = line
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"records": count, "last": last, "seconds": seconds, "peak_kib": peak_kib}))


def write_array(path: Path, n: int, seed: int, indent: int | None, min_bytes: int = 0) -> int:
    """Write ``n`` generated cases (more while the file is under ``min_bytes``)."""
    from zhenshen_chengdu_gaoxin.corpus import generate_cases

    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        batch = 0
        while written < n or out.tell() < min_bytes:
            for case in generate_cases(10_000, seed=seed + batch):
                if written:
                    out.write(",\n")
                out.write(json.dumps(case, ensure_ascii=False, indent=indent))
                written += 1
                if written >= n and out.tell() >= min_bytes:
                    break
            batch += 1
        out.write("\n]\n")
    return written


def run(reader: str, source: Path, timeout: float) -> dict[str, Any]:
    """The child's report; for one stopped at ``timeout``, its peak memory so far (VmHWM)."""
    command = [sys.executable, __file__, "--child", reader, str(source)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child_process:
        try:
            out, _ = child_process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            peak = _peak_kib(child_process.pid)
            child_process.kill()
            child_process.communicate()
            return {"stopped": True, "peak_kib": peak}
    if child_process.returncode != 0:
        raise SystemExit(f"{reader} failed on {source} (exit {child_process.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


def _peak_kib(pid: int) -> int:
    """The peak resident memory of a running process (Linux ``/proc``), 0 if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000,40000,200000")
    parser.add_argument("--big-mb", type=float, default=105.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="zhenshen-json-") as folder:
        files: list[tuple[str, Path]] = []
        for n in (int(s) for s in args.sizes.split(",") if s):
            path = Path(folder) / f"cases-{n}.json"
            write_array(path, n, args.seed, None)
            files.append((f"{n:,} cases, one a line", path))
        if args.big_mb > 0:
            path = Path(folder) / "big.json"
            count = write_array(path, 0, args.seed, 2, int(args.big_mb * 1_000_000))
            files.append((f"{count:,} cases, indented", path))
        print(f"{'file':<32} {'MB':>6}  {'reader':<10} {'seconds':>8} {'peak RSS':>9}  records")
        for label, path in files:
            size = os.path.getsize(path) / 1e6
            results: dict[str, dict[str, Any] | None] = {}
            for reader in ("whole", "stream"):
                result = run(reader, path, args.timeout)
                results[reader] = None if result.get("stopped") else result
                name = "whole text" if reader == "whole" else "streaming"
                if result.get("stopped"):
                    so_far = result["peak_kib"] / 1024
                    print(
                        f"{label:<32} {size:6.1f}  {name:<10} {'> ' + str(int(args.timeout)):>8} "
                        f"{so_far:7.0f} MB  stopped after {args.timeout:.0f} s (memory so far)"
                    )
                    continue
                print(
                    f"{label:<32} {size:6.1f}  {name:<10} {result['seconds']:8.2f} "
                    f"{result['peak_kib'] / 1024:7.0f} MB  {result['records']:,}"
                )
            whole, stream = results["whole"], results["stream"]
            if whole is not None and stream is not None:
                same = (whole["records"], whole["last"]) == (stream["records"], stream["last"])
                if not same:
                    raise SystemExit(f"{label}: the readers disagree: {whole} != {stream}")


if __name__ == "__main__":
    main()
