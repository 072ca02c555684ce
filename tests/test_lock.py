"""The lock files (requirements/lock.txt, lock-dev.txt) that scripts/setup.sh and the Dockerfile install from still
satisfy pyproject.toml: a dependency added or tightened there without regenerating the locks fails here, naming it."""
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+?)\s", text, re.M)
    return {canonicalize_name(name): version for name, version in found}


@pytest.mark.parametrize("lock, requirements", [
    ("lock.txt", PROJECT["dependencies"]),
    ("lock-dev.txt", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
])
def test_every_dependency_of_pyproject_is_pinned_within_its_range(lock, requirements):
    pinned = pins(lock)
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is missing from requirements/{lock}: regenerate it (README)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock} pins {requirement.name}=={pinned[name]}, outside {requirement.specifier}"
        )


@pytest.mark.parametrize("lock", ["lock.txt", "lock-dev.txt"])
def test_every_pin_carries_hashes(lock):
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)  # one entry per pin: its line and its --hash lines
    pinned = [entry for entry in entries if re.match(r"^[A-Za-z0-9_.\-]+==", entry)]
    assert pinned and all("--hash=sha256:" in entry for entry in pinned)
