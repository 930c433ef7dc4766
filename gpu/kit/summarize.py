#!/usr/bin/env python3
"""Writes summary.txt for the GPU device kit (gpu/kit/run.sh): one line per test (pass / FAIL / ERROR / skipped, with
the message's first line), the counts, the compute-sanitizer verdicts and the benchmark output.

usage: summarize.py OUT_DIR TESTS_EXIT_CODE SECONDS
"""
import os
import re
import sys
import xml.etree.ElementTree as ET


def first_line(text):
    text = (text or "").strip()
    line = text.splitlines()[0] if text else ""
    for noise in ("org.opentest4j.TestAbortedException: ", "Assumption failed: "):
        line = line.replace(noise, "")
    return line[:300]


def tests(out):
    path = os.path.join(out, "junit.xml")
    if not os.path.exists(path):
        return ["no junit.xml: the test run did not finish (see run.log)"], {}
    rows, counts = [], {"pass": 0, "FAIL": 0, "ERROR": 0, "skipped": 0}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}#{case.get('name')}"
        status, message = "pass", ""
        for tag, label in (("failure", "FAIL"), ("error", "ERROR"), ("skipped", "skipped")):
            el = case.find(tag)
            if el is not None:
                status = label
                message = first_line(el.get("message") or el.text)
                break
        counts[status] += 1
        rows.append(f"{status:8} {name} ({case.get('time', '?')} s){': ' + message if message else ''}")
    return sorted(rows, key=lambda r: (r.split()[0] == "pass", r.split()[0] == "skipped", r)), counts


def sanitizer(out):
    path = os.path.join(out, "sanitizer.log")
    if not os.path.exists(path):
        return ["not run"]
    lines = []
    for line in open(path, errors="replace"):
        if re.search(r"^-- |ERROR SUMMARY|exit \d+|not run", line):
            lines.append(line.rstrip())
    return lines or ["no verdict in sanitizer.log"]


def main():
    out, rc, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
    rows, counts = tests(out)
    summary = [f"GPU device kit: {seconds} s; test launcher exit code {rc}",
               "tests: " + ", ".join(f"{v} {k}" for k, v in counts.items()), ""]
    summary += rows + ["", "compute-sanitizer:"] + sanitizer(out) + ["", "benchmarks:"]
    bench = os.path.join(out, "bench.log")
    summary += [line.rstrip() for line in open(bench, errors="replace")] if os.path.exists(bench) else ["not run"]
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")
    print("\n".join(summary[:3]))
    print(f"summary: {os.path.join(out, 'summary.txt')}")


if __name__ == "__main__":
    main()
