"""Reading pytest's JUnit XML (`--junitxml`, `junit_family=xunit1`) into per-file test outcomes.

Outcomes come from the report pytest writes, never from its console text. Test ids look like pytest
node ids (`tests/test_mod.py::TestClass::test_name[param]`); a file that failed to collect appears as
one test `<file>::<collection>` with outcome `error`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
COLLECTION = "<collection>"


class JUnitParseError(ValueError):
    """The report is missing or not JUnit XML."""


def _test_id(file: str, classname: str, name: str) -> str:
    module = file[:-3].replace("/", ".") if file.endswith(".py") else ""
    klass = classname
    if module and (classname == module or classname.startswith(module + ".")):
        klass = classname[len(module) + 1 :]
    elif "." in classname and classname[:1].islower():
        # classname is module.Class without a file attribute: keep only trailing capitalised parts
        parts = classname.split(".")
        klass = ".".join(p for p in parts if p[:1].isupper())
    return "::".join(p for p in (file or classname.replace(".", "/") + ".py", klass, name) if p)


def _outcome(case: ET.Element) -> Outcome:
    tags = {child.tag for child in case}
    if "error" in tags:
        return "error"
    if "failure" in tags:
        return "failed"
    if "skipped" in tags:
        return "skipped"
    return "passed"


def parse_junit(xml_text: str) -> dict[str, dict[str, Outcome]]:
    """Return {test file: {test id: outcome}}. Raises JUnitParseError on anything that is not a report."""
    if not xml_text.strip():
        raise JUnitParseError("the JUnit report is empty")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise JUnitParseError(f"the JUnit report is not XML ({exc})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitParseError(f"unexpected root element <{root.tag}> in the JUnit report")
    out: dict[str, dict[str, Outcome]] = {}
    for case in root.iter("testcase"):
        file = case.get("file", "")
        classname = case.get("classname", "")
        name = case.get("name", "")
        if not classname and file:  # collection failure of a whole file
            out.setdefault(file, {})[f"{file}::{COLLECTION}"] = "error"
            continue
        test_id = _test_id(file, classname, name)
        key = file or test_id.split("::", 1)[0]
        out.setdefault(key, {})[test_id] = _outcome(case)
    return out
