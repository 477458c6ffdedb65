"""Known vulnerabilities in the locked dependencies (pip-audit against PyPI's advisory data).

Fails when a locked package has a known vulnerability. When the advisory service cannot be
reached (a mirror without PyPI's JSON API, no network), it says so plainly and how many packages
it could audit, and does not fail: an unaudited run is not a clean one, and is not called one.

    .venv/bin/python scripts/audit_dependencies.py requirements.lock
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main(lock: str) -> int:
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--requirement",
        lock,
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603 - our own tool, fixed arguments
    except subprocess.TimeoutExpired:
        print("[audit] the vulnerability service did not answer within 5 minutes: dependencies NOT audited")
        return 0
    try:
        report = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"[audit] the vulnerability service could not be reached ({last}): dependencies NOT audited")
        return 0
    packages = report.get("dependencies", [])
    audited = [p for p in packages if "skip_reason" not in p]
    vulnerable = [p for p in audited if p.get("vulns")]
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"[audit] {package['name']} {package['version']}: {vuln['id']} (fixed in {fixed})")
    if not audited and packages:
        print(
            f"[audit] the vulnerability service could not be reached: none of {len(packages)} packages "
            "could be audited (this machine's package index has no advisory data); dependencies NOT audited"
        )
        return 0
    print(
        f"[audit] {len(audited)} of {len(packages)} packages audited, {len(vulnerable)} with known vulnerabilities"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock"))
