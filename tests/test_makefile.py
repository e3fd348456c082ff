"""The Makefile finds a Python >= 3.12 the way a user's machine offers one, or says clearly that
there is none. Each case runs make with a PATH holding only the interpreters named."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def interpreter(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} under {PYENV} to build this case from")
    return found[-1]


def make_python(tmp_path: Path, links: dict[str, Path]) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in links.items():
        (bin_dir / name).symlink_to(target)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    # /usr/bin may hold a python3 of its own: hide it unless the case provides one.
    if "python3" not in links:
        (bin_dir / "python3").symlink_to("/bin/false")
    return subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "python"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_prefers_python_3_13(tmp_path):
    result = make_python(
        tmp_path, {"python3.13": interpreter("3.13"), "python3.12": interpreter("3.12")}
    )
    assert result.returncode == 0, result.stderr
    assert "Python 3.13" in result.stdout


def test_takes_python_3_12_when_that_is_all(tmp_path):
    result = make_python(tmp_path, {"python3.12": interpreter("3.12")})
    assert result.returncode == 0, result.stderr
    assert "Python 3.12" in result.stdout


def test_takes_python3_if_it_is_new_enough(tmp_path):
    result = make_python(tmp_path, {"python3": interpreter("3.13")})
    assert result.returncode == 0, result.stderr
    assert "Python 3.13" in result.stdout


def test_says_clearly_when_there_is_none(tmp_path):
    result = make_python(tmp_path, {"python3": interpreter("3.11")})
    assert result.returncode != 0
    assert "Python 3.12 or newer is required" in result.stderr
