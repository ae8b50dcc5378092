"""`python -m sandbox --http-port 8025 --smtp-port 1025 --host 127.0.0.1`."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.app import SandboxSettings, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address for both HTTP and SMTP")
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(SandboxSettings(smtp_host=args.host, smtp_port=args.smtp_port))
    uvicorn.run(app, host=args.host, port=args.http_port, log_level=args.log_level)


if __name__ == "__main__":
    main()
