"""Set up the project's virtualenv (stdlib only) and run a task in it.

    python3 tools/dev.py quickstart   # the main job: examples/quickstart.py on the embedded engine
    python3 tools/dev.py test         # the whole test suite (what CI runs)
    python3 tools/dev.py bench        # every benchmark, side by side with the peer
    python3 tools/dev.py check        # generated code is current, ruff, mypy (what CI runs first)

The venv lives in .venv and is re-synced whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".aqdrant-installed"


def ensure_venv() -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(PY), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test,server]"])
    STAMP.write_text(want)


def run(cmd: list[str]) -> None:
    code = subprocess.call(cmd, cwd=ROOT)
    if code:
        sys.exit(code)


def main() -> None:
    task = sys.argv[1] if len(sys.argv) > 1 else "test"
    extra = sys.argv[2:]
    ensure_venv()
    # bytecode for the package, as a regular (non-editable) install writes it: without it every
    # process compiles from source (here PYTHONDONTWRITEBYTECODE may be set), and the embedded
    # engine's process start, ~50 ms, would be twice that; stale files are recompiled by mtime
    run([str(PY), "-m", "compileall", "-q", "aqdrant"])
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if task == "test":
        run([str(PY), "-m", "pytest", *extra])
    elif task == "quickstart":
        run([str(PY), "examples/quickstart.py", *extra])
    elif task == "bench":
        run([str(PY), "benchmarks/run_all.py", *extra])
    elif task == "check":
        for gen in ("tools/gen_models.py", "tools/gen_sync_shim.py", "tools/gen_grpc.py"):
            if (ROOT / gen).exists():
                run([str(PY), gen, "--check"])
        run([str(PY), "-m", "ruff", "check", "."])
        # types as a user's editor sees them: the public surface, tests/typing/, examples/
        # (configured in pyproject.toml; ~20 s cold, ~2 s with .mypy_cache warm)
        run([str(PY), "-m", "mypy"])
    else:
        sys.exit(f"unknown task {task!r}: use quickstart, test, bench or check")


if __name__ == "__main__":
    main()
