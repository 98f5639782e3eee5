"""Conformance reports (issue 5): the requirement -> verdict table, JUnit XML for CI, and an
HTML assertion document (each requirement, the messages observed as a sequence, the checks and
the verdict)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from .suite import ScenarioResult

__all__ = ["html_report", "junit_xml"]


def junit_xml(results: Sequence[ScenarioResult], path: Path, *, target: str) -> None:
    """One JUnit test case per requirement (classname conformance.<suite>)."""
    suites = ET.Element("testsuites", name="cimbus conformance")
    by_suite: dict[str, list[ScenarioResult]] = {}
    for r in results:
        by_suite.setdefault(r.scenario.suite, []).append(r)
    for suite_name, items in by_suite.items():
        s = ET.SubElement(
            suites,
            "testsuite",
            name=f"conformance.{suite_name}",
            tests=str(len(items)),
            failures=str(sum(r.status == "failed" for r in items)),
            errors=str(sum(r.status == "error" for r in items)),
            skipped=str(sum(r.status == "not-applicable" for r in items)),
            time=f"{sum(r.duration for r in items):.3f}",
            timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        props = ET.SubElement(s, "properties")
        ET.SubElement(props, "property", name="target", value=target)
        for r in items:
            case = ET.SubElement(
                s,
                "testcase",
                classname=f"conformance.{suite_name}",
                name=f"{r.scenario.id} {r.scenario.title}",
                time=f"{r.duration:.3f}",
            )
            if r.status == "failed":
                ET.SubElement(case, "failure", message=r.error).text = _details(r)
            elif r.status == "error":
                ET.SubElement(case, "error", message=r.error).text = _details(r)
            elif r.status == "not-applicable":
                ET.SubElement(case, "skipped", message=r.error)
            out = ET.SubElement(case, "system-out")
            out.text = _details(r)
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _details(r: ScenarioResult) -> str:
    lines = [f"{r.scenario.id}: {r.scenario.requirement}", ""]
    lines += [
        f"[{'PASS' if a.passed else 'FAIL'}] {a.description}"
        + (f"  ({a.evidence})" if a.evidence else "")
        for a in r.assertions
    ]
    lines += ["", "messages:"] + [m.line() for m in r.messages]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%} td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
.PASSED{color:#0a7a2f;font-weight:bold}.FAILED,.ERROR{color:#b00020;font-weight:bold}.NOT-APPLICABLE{color:#8a6d00;font-weight:bold}
.req{background:#f6f8fa;padding:.6em;border-left:3px solid #888}
pre{background:#fafafa;padding:.6em;overflow-x:auto;font-size:.85em}
li.fail{color:#b00020} li.pass{color:#0a7a2f}
"""


def html_report(results: Sequence[ScenarioResult], path: Path, *, target: str) -> None:
    """The assertion document: summary table, then per requirement the text, the observed
    message sequence, the checks and the verdict."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>cimbus conformance</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>cimbus conformance report</h1>",
        f"<p>Target: <code>{e(target)}</code> &middot; run {e(datetime.now(UTC).isoformat(timespec='seconds'))} &middot; "
        f"{sum(r.passed for r in results)}/{len(results)} passed</p>",
        "<table><tr><th>requirement</th><th>scenario</th><th>verdict</th><th>time</th></tr>",
    ]
    for r in results:
        parts.append(
            f"<tr><td><a href='#{e(r.scenario.id)}'>{e(r.scenario.id)}</a></td><td>{e(r.scenario.title)}</td>"
            f"<td class='{r.status.upper()}'>{r.status.upper()}</td><td>{r.duration:.2f} s</td></tr>"
        )
    parts.append("</table>")
    for r in results:
        parts.append(
            f"<h2 id='{e(r.scenario.id)}'>{e(r.scenario.id)} &mdash; {e(r.scenario.title)} "
            f"<span class='{r.status.upper()}'>{r.status.upper()}</span></h2>"
        )
        parts.append(f"<p class='req'>{e(r.scenario.requirement)}</p>")
        parts.append(
            "<h3>Messages observed</h3><pre>"
            + e("\n".join(m.line() for m in r.messages) or "(none)")
            + "</pre>"
        )
        parts.append("<h3>Checks</h3><ol>")
        for a in r.assertions:
            parts.append(
                f"<li class='{'pass' if a.passed else 'fail'}'>{'&#10003;' if a.passed else '&#10007;'} {e(a.description)}"
                + (f"<br><small>{e(a.evidence)}</small>" if a.evidence else "")
                + "</li>"
            )
        parts.append("</ol>")
        if r.error:
            parts.append(f"<p><b>Verdict:</b> {e(r.status)}: {e(r.error)}</p>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
