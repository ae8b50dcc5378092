"""Run one service under uvicorn with the platform's JSON logs from the first line on (uvicorn's own
lines included): `python -m common.serve intake --host 127.0.0.1 --port 8001`.

Plain `uvicorn intake.app:create_app --factory` works too, but uvicorn then writes its start-up
lines in its own text format until the service configures logging in its lifespan.
"""

from __future__ import annotations

import argparse

import uvicorn

from common.logging import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m common.serve", description=__doc__)
    parser.add_argument("service", help="intake, reminders, visits or compliance")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # JSON at INFO until the service's lifespan configures logging from its own settings.
    configure_logging(args.service)
    uvicorn.run(
        f"{args.service}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=False,  # the service logs one line per request itself, with its trace
        log_config=None,  # keep the handlers configured above
    )


if __name__ == "__main__":
    main()
