#!/usr/bin/env python3
"""Closing report of a test run, read from the TRX files `dotnet test` wrote:
every failed test with the first lines of its message, then the slowest tests.
CI keeps only the tail of the output, so what broke and what took the time is printed last."""
import glob
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def seconds(duration):
    hours, minutes, rest = duration.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def main(folder, slowest=15):
    results = []
    for path in glob.glob(f"{folder}/**/*.trx", recursive=True):
        for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", NS):
            message = result.findtext(".//t:Message", default="", namespaces=NS)
            results.append((result.get("testName"), result.get("outcome"),
                            seconds(result.get("duration", "0:0:0")), message))
    failed = [r for r in results if r[1] == "Failed"]
    for name, _, took, message in failed:
        print(f"FAILED {name} ({took:.1f} s)")
        for line in message.strip().splitlines()[:6]:
            print(f"    {line}")
    print(f"slowest {slowest} of {len(results)} tests:")
    for name, outcome, took, _ in sorted(results, key=lambda r: -r[2])[:slowest]:
        print(f"  {took:7.1f} s  {outcome:<7} {name}")


if __name__ == "__main__":
    main(sys.argv[1])
