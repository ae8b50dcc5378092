"""The operator's command line as the tests run it: `collectctl` from this environment, pointed at
the dev stack by its environment variables."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


async def collectctl(*args: str, env: dict[str, str]) -> str:
    """Run `collectctl args...` with `env` added; its standard output, or a failure with both streams."""
    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("collectctl")),
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await cli.communicate()
    assert cli.returncode == 0, (
        f"collectctl {' '.join(args)} exited {cli.returncode}:\n{out.decode()}{err.decode()}"
    )
    return out.decode()
