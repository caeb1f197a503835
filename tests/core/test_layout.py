"""The rules of the layout (docs/architecture.md), checked by machine: the import contracts are lint-imports' (make
test runs it); these are the rest. Each reads the source, so a change that breaks a rule fails here, not in review."""

import ast
from pathlib import Path

import pytest

from tests.processes import ROOT

APPS = ("config", "core", "audit", "platforms", "accounts", "alerts", "notifications", "cases", "intake", "evidence",
        "referral", "search", "liveness", "reports", "devtools")
MAX_LINES = 400
# Settings stay one module (docs/architecture.md): a flat list of commented declarations, longer than code may be.
LONGER = {"config/settings.py": 600}
GRAB_BAGS = {"utils.py", "helpers.py", "misc.py", "common.py", "util.py", "helper.py"}

# Each state machine: its action module (the only code that assigns its status), its table, its statuses.
STATE_MACHINES = {
    "Case": ("cases/actions/cases.py", "CASE_ALLOWED", "cases.models", "CaseStatus"),
    "Item": ("cases/actions/items.py", "ITEM_ALLOWED", "cases.models", "ItemStatus"),
    "Referral": ("referral/actions/outcomes.py", "REFERRAL_ALLOWED", "referral.models", "ReferralStatus"),
    "Delivery": ("referral/outbox/actions.py", "DELIVERY_ALLOWED", "referral.models", "DeliveryStatus"),
    "ImportJob": ("intake/actions.py", "IMPORT_ALLOWED", "intake.models", "ImportStatus"),
    "ReviewJob": ("referral/actions/review_jobs.py", "REVIEW_JOB_ALLOWED", "referral.models", "ReviewJobStatus"),
}
STATUS_WRITERS = {module for module, *_ in STATE_MACHINES.values()}


def source_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_module_is_over_400_lines():
    long = {relative(p): n for p in source_files()
            if (n := len(p.read_text().splitlines())) > LONGER.get(relative(p), MAX_LINES)}
    assert long == {}


def test_no_grab_bag_modules():
    assert [relative(p) for p in source_files() if p.name in GRAB_BAGS] == []


def _status_writes(tree: ast.AST) -> list[int]:
    """Lines that assign `<x>.status = …` (also in a tuple) or call `.update(status=…)`."""
    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            lines += [node.lineno for e in elements if isinstance(e, ast.Attribute) and e.attr == "status"]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update"
                and any(k.arg == "status" for k in node.keywords)):
            lines.append(node.lineno)
    return lines


def test_only_the_action_modules_assign_a_status():
    writes = {relative(p): lines for p in source_files()
              if (lines := _status_writes(ast.parse(p.read_text()))) and relative(p) not in STATUS_WRITERS}
    assert writes == {}


def test_the_status_rule_sees_an_assignment():
    """The check above cannot pass by failing to see: it finds each form of a status write."""
    code = "item.status = 'x'\na.status, b = 1, 2\nQ.objects.filter(pk=1).update(status='y')\n"
    assert _status_writes(ast.parse(code)) == [1, 2, 3]


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_each_state_machine_has_its_transition_table_beside_its_actions(machine):
    import importlib

    module_path, table_name, models_module, enum_name = STATE_MACHINES[machine]
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    table = getattr(module, table_name)
    statuses = set(getattr(importlib.import_module(models_module), enum_name).values)
    assert set(table) == statuses, f"{table_name} must say where every {machine} status may go"
    assert all(targets <= statuses for targets in table.values())


def test_role_sets_are_spelled_only_in_core_roles():
    """Who may do what is core/roles.py's: elsewhere no tuple, list or set of roles is written out."""
    offenders = []
    for path in source_files():
        if relative(path) == "core/roles.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                roles = [e for e in node.elts if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name)
                         and e.value.id == "Role"]
                if roles:
                    offenders.append(f"{relative(path)}:{node.lineno}")
    assert offenders == []


def test_every_app_is_packaged_and_in_the_image():
    """The image installs the project with pip and copies each app's folder: an app left out of either starts
    nowhere but in the source tree (four were once missing from both)."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} - {"devtools"}
    dockerfile = (ROOT / "Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert {app for app in apps if f"COPY {app} ./{app}" not in dockerfile} == set()
    assert {app for app in apps if f'"{app}*"' not in pyproject} == set()
    assert set(APPS) >= apps
