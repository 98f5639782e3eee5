"""Regenerate ``cim_models/generated`` from the XSD profiles (``make models``; BUS-3).

The generated classes are build output: never edit them by hand. This module runs the pinned
xsdata generator with the committed configuration (``cim_models/.xsdata.xml``) into a
temporary directory and then replaces ``cim_models/generated`` with the result, so a run is
reproducible and never touches anything else. xsdata formats its output with ruff, which must
be on PATH (the Makefile puts ``.venv/bin`` first).

``python -m cim_models.regenerate --check`` regenerates into a temporary directory and reports
any difference from the committed package (exit 1), which is what the drift test does.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
GENERATED = PACKAGE_DIR / "generated"
CONFIG = PACKAGE_DIR / ".xsdata.xml"
SCHEMAS = PACKAGE_DIR / "schemas"
PINNED_XSDATA = "26.10"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def generate_into(workdir: Path) -> Path:
    """Run xsdata in ``workdir``; return the generated package directory."""
    import xsdata

    version = getattr(xsdata, "__version__", None)
    if version is not None and version != PINNED_XSDATA:
        raise SystemExit(
            f"xsdata {version} is installed but cim_models/generated is pinned to {PINNED_XSDATA}; "
            "run `make venv` (or change the pin on purpose and regenerate)"
        )
    if shutil.which("ruff", path=_env()["PATH"]) is None:
        raise SystemExit(
            "ruff is not on PATH: xsdata formats its output with ruff (pip install -e '.[dev]')"
        )
    cmd = [
        str(Path(sys.executable).parent / "xsdata"),
        "generate",
        str(SCHEMAS),
        "--config",
        str(CONFIG),
    ]
    proc = subprocess.run(cmd, cwd=workdir, env=_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"xsdata failed:\n{proc.stdout}\n{proc.stderr}")
    out = workdir / "cim_models" / "generated"
    if not out.is_dir():
        raise SystemExit(f"xsdata wrote nothing to {out}:\n{proc.stdout}\n{proc.stderr}")
    return out


def _files(root: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(root)): p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def diff(expected: Path, actual: Path) -> list[str]:
    """Human-readable differences between two generated trees."""
    a, b = _files(expected), _files(actual)
    problems = [f"missing from {actual}: {name}" for name in sorted(a.keys() - b.keys())]
    problems += [f"not produced by the generator: {name}" for name in sorted(b.keys() - a.keys())]
    problems += [
        f"differs: {name}"
        for name in sorted(a.keys() & b.keys())
        if not filecmp.cmp(a[name], b[name], shallow=False)
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="cimbus-models-") as tmp:
        fresh = generate_into(Path(tmp))
        if "--check" in args:
            problems = diff(fresh, GENERATED)
            for p in problems:
                print(p)
            if problems:
                print("cim_models/generated is out of date with the XSDs: run `make models`")
                return 1
            print("cim_models/generated matches the XSD profiles")
            return 0
        if GENERATED.exists():
            shutil.rmtree(GENERATED)
        shutil.copytree(fresh, GENERATED, ignore=shutil.ignore_patterns("__pycache__"))
    print(
        f"regenerated {GENERATED.relative_to(PACKAGE_DIR.parent)} from {len(list(SCHEMAS.glob('*.xsd')))} XSDs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
