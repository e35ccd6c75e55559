"""Does an image's repository hold commits from after its base commit?

Official SWE-bench images are used as they are, so nothing we prepare can keep their git history
clean: this check tells whether a later fix is readable inside one. In a throwaway container (no
network) it lists the commit objects of the repository and compares them with the base commit's
history: commits reachable from a ref or a reflog but not from the base ("reachable"), and commit
objects that nothing references ("unreachable", what `git fsck --lost-found` finds). Either kind
could be the fix. The check reads object ids from the packs' indexes, so it takes about a second
even on a large repository.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import docker

from sweagent.sandbox.docker_sandbox import LABEL, PID_LABEL
from sweagent.swebench.containers import ROLE_LABEL

ROLE = "image-check"
SHOWN = 5  # commits named per kind in a report line

# $1: the repository, $2: the base commit ("" for HEAD). Prints `BASE <sha> <time>`, then one
# `<kind> <sha> <committer time> <subject>` line per commit outside the base's history.
CHECK_SCRIPT = r"""
cd "$1" 2>/dev/null || { echo "NOREPO"; exit 0; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "NOREPO"; exit 0; }
base=$(git rev-parse --verify -q "${2:-HEAD}^{commit}") || { echo "NOBASE"; exit 0; }
echo "BASE $base $(git show -s --format=%ct "$base")"
tmp=$(mktemp -d)
git rev-list "$base" | sort > "$tmp/history"
git rev-list --all --reflog 2>/dev/null | sort -u > "$tmp/reachable"
git cat-file --batch-all-objects --batch-check='%(objecttype) %(objectname)' \
  | awk '$1 == "commit" {print $2}' | sort > "$tmp/every"
comm -23 "$tmp/reachable" "$tmp/history" > "$tmp/later"
comm -23 "$tmp/every" "$tmp/reachable" | comm -23 - "$tmp/history" > "$tmp/lost"
for kind in later lost; do
  [ -s "$tmp/$kind" ] && git log --no-walk=unsorted --stdin --format="$kind %H %ct %s" < "$tmp/$kind"
done
rm -rf "$tmp"
exit 0
"""


@dataclass(frozen=True)
class FoundCommit:
    sha: str
    time: int
    subject: str


@dataclass
class FutureReport:
    """What one image's repository holds beyond its base commit's history."""

    image: str
    base: str = ""
    reachable: list[FoundCommit] = field(default_factory=list)
    unreachable: list[FoundCommit] = field(default_factory=list)
    problem: str = ""  # the check could not run (image missing, no repository, unknown base)

    @property
    def leaks(self) -> bool:
        return bool(self.reachable or self.unreachable)

    def line(self) -> str:
        """One line: clean, leaking (with examples), or why it could not be checked."""
        if self.problem:
            return f"{self.image}: not checked: {self.problem}"
        if not self.leaks:
            return f"{self.image}: clean (every commit is in the history of {self.base[:12]})"
        parts = []
        for label, found in (("reachable from refs", self.reachable), ("unreachable", self.unreachable)):
            if found:
                names = ", ".join(f'{c.sha[:10]} "{c.subject[:50]}"' for c in found[:SHOWN])
                more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
                parts.append(f"{len(found)} {label} ({names}{more})")
        return f"{self.image}: LEAKS commits after {self.base[:12]}: " + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def rows(found: list[FoundCommit]) -> list[dict[str, Any]]:
            return [{"sha": c.sha, "time": c.time, "subject": c.subject} for c in found]

        return {
            "image": self.image,
            "base": self.base,
            "leaks": self.leaks,
            "reachable": rows(self.reachable),
            "unreachable": rows(self.unreachable),
            "problem": self.problem,
        }


def parse_report(image: str, output: str) -> FutureReport:
    report = FutureReport(image=image)
    for line in output.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "NOREPO":
            report.problem = "no git repository at the work directory"
        elif kind == "NOBASE":
            report.problem = "the base commit is not in the image's repository"
        elif kind == "BASE":
            report.base = rest.split()[0]
        elif kind in ("later", "lost"):
            sha, when, subject = (rest.split(" ", 2) + ["", ""])[:3]
            found = FoundCommit(sha=sha, time=int(when or 0), subject=subject)
            (report.reachable if kind == "later" else report.unreachable).append(found)
    return report


def check_image(
    client: docker.DockerClient, image: str, base: str | None = None, workdir: str = "/testbed"
) -> FutureReport:
    """Run the check in a throwaway container of `image` (never pulled: a missing image is reported)."""
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return FutureReport(image=image, problem="image not present locally (pull or build it first)")
    labels = {LABEL: "1", PID_LABEL: str(os.getpid()), ROLE_LABEL: ROLE}
    try:
        output = client.containers.run(
            image,
            command=["sh", "-c", CHECK_SCRIPT, "check", workdir, base or ""],
            entrypoint=[],
            network_mode="none",
            labels=labels,
            remove=True,
            stdout=True,
            stderr=False,
        )
    except docker.errors.ContainerError as exc:
        return FutureReport(image=image, problem=f"the check failed in the container ({exc.exit_status})")
    except docker.errors.APIError as exc:
        return FutureReport(image=image, problem=f"Docker refused the check: {exc.explanation or exc}")
    return parse_report(image, output.decode("utf-8", "replace"))


def warn_once_in_background(
    candidates: list[tuple[str, str | None]], warn: Callable[[str], None]
) -> threading.Thread:
    """Check the first image of `candidates` ((image, base) pairs) present locally, off the caller's
    thread; call `warn` with one line if it leaks. Failures (no Docker, ...) stay silent: this is a
    courtesy check, and every instance reports a real Docker problem on its own."""

    def work() -> None:
        try:
            from sweagent.swebench.images import docker_client

            client = docker_client()
            for image, base in candidates:
                try:
                    client.images.get(image)
                except docker.errors.ImageNotFound:
                    continue
                report = check_image(client, image, base)
                if report.leaks:
                    warn(
                        f"warning: {report.line()}; an agent can read a later fix there "
                        "(`swe-ttc image check --dataset ...` checks every image)"
                    )
                return
        except Exception:
            return

    thread = threading.Thread(target=work, name="swe-ttc-image-check", daemon=True)
    thread.start()
    return thread
