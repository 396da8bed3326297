"""The ``aqdrant`` command line and the packaging promises a newcomer meets first: ``--help``,
``--version``, gRPC as a regular dependency, and extras that name their install command."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import pytest

import aqdrant
from aqdrant.__main__ import COMMANDS, main


def test_help_lists_every_subcommand_on_one_line(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    for name, (summary, _) in COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(summary)}$", out, re.M), out
    assert "--version" in out


def test_version_is_the_one_constant(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--version"])
    assert ei.value.code == 0
    assert capsys.readouterr().out.strip() == f"aqdrant {aqdrant.__version__}"
    assert importlib.metadata.version("aqdrant") == aqdrant.__version__  # pyproject reads it


def test_no_command_and_unknown_command_are_usage_errors(capsys):
    assert main([]) == 2
    assert "serve" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ei:
        main(["bogus"])
    assert ei.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_console_script_help_exits_zero():
    out = subprocess.run([sys.executable, "-m", "aqdrant", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "serve" in out.stdout


def test_grpc_stack_is_a_regular_dependency_and_only_the_optional_parts_are_extras():
    requires = importlib.metadata.requires("aqdrant") or []
    regular = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requires if "extra ==" not in r}
    assert {"grpclib", "betterproto2", "h2"} <= regular
    extras = set(importlib.metadata.metadata("aqdrant").get_all("Provides-Extra") or []) - {"test"}
    # inference, the dev server and OpenTelemetry (telemetry is off without it)
    assert extras == {"fastembed", "server", "otel"}


def test_serve_without_the_server_extra_names_the_install_command():
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"  # as if the extra were not installed
        "from aqdrant.__main__ import main; sys.exit(main(['serve', '--port', '0']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "pip install 'aqdrant[server]'" in out.stderr, out.stderr
    # and from Python: a typed ImportError naming the same command
    code = "import sys; sys.modules['starlette'] = None\nimport aqdrant.server\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "MissingExtraError" in out.stderr and "pip install 'aqdrant[server]'" in out.stderr
