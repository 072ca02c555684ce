"""Browser journeys wait for the state they assert: no one-shot reads of the page in an assert, no fixed sleeps.

`assert not locator.is_visible()` right after an action reads the page once, before the page's script may have run
(the export journey failed 2 runs in 5 that way); `expect(locator).to_be_hidden()` waits for it. The guard reads
assert statements only: a read stored in a variable first is left to review.
"""
import ast
from pathlib import Path

E2E = Path(__file__).resolve().parent / "e2e"

# Locator/Page methods that read the state once. Asserting on their result races the page's scripts and navigations.
STATE_CHECKS = {"is_visible", "is_hidden", "is_checked", "is_disabled", "is_enabled", "is_editable"}
ONE_SHOT_READS = STATE_CHECKS | {
    "inner_text", "inner_html", "text_content", "input_value", "get_attribute", "all_inner_texts",
    "all_text_contents", "content",
}
SLEEPS = {"wait_for_timeout"}


def _method(node):
    return node.func.attr if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None


def _is_locator(node):
    """Whether an expression is built from page.locator(...) or page.get_by_*(...), as in `....count()`."""
    return any(_method(inner) == "locator" or (_method(inner) or "").startswith("get_by_") for inner in ast.walk(node))


def one_shot_checks(source, filename="<source>"):
    """Each line that asserts on a one-shot read of the page, or sleeps for a fixed time, as `file:line: why`."""
    found = []
    for statement in ast.walk(ast.parse(source, filename)):
        if isinstance(statement, ast.Call) and _method(statement) in SLEEPS:
            found.append((statement.lineno, f"{_method(statement)}() sleeps for a fixed time; wait for a state"))
        if not isinstance(statement, ast.Assert):
            continue
        for node in ast.walk(statement.test):
            name = _method(node)
            if name in ONE_SHOT_READS or (name == "count" and not node.args and _is_locator(node.func.value)):
                found.append((node.lineno, f"assert on .{name}() reads the page once; use expect(...)"))
    return [f"{filename}:{line}: {why}" for line, why in sorted(set(found))]


def test_e2e_journeys_assert_with_waiting_expectations():
    found = [finding for path in sorted(E2E.glob("*.py"))
             for finding in one_shot_checks(path.read_text(encoding="utf-8"), str(path.relative_to(E2E.parent.parent)))]
    assert found == [], "\n".join(found)


def test_the_guard_names_each_one_shot_check_by_line():
    source = "\n".join([
        "def test_journey(page):",
        '    assert not page.get_by_label("统计年度").is_visible()',
        '    assert page.get_by_test_id("status").inner_text() == "已提交"',
        '    assert page.locator("tr").count() == 2',
        "    page.wait_for_timeout(500)",
        '    expect(page.get_by_label("统计年度")).to_be_hidden()',
        "    assert Institution.objects.count() == 1",
        '    assert rows[0] == ["行号"]',
    ])
    assert [finding.split(": ")[0] for finding in one_shot_checks(source, "journey.py")] == [
        "journey.py:2", "journey.py:3", "journey.py:4", "journey.py:5"]
