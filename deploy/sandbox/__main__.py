"""`python -m sandbox --http-port 8025 --smtp-port 1025 --host 127.0.0.1
[--reminders-url URL --webhook-secrets-file FILE]`."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from common.webhooks import load_secrets
from sandbox.app import SandboxSettings, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address for both HTTP and SMTP")
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--reminders-url", help="where delivery receipts and SMS replies are posted")
    parser.add_argument(
        "--webhook-secrets-file", type=Path, help="JSON of provider name to the secret it signs with"
    )
    args = parser.parse_args(argv)
    settings = SandboxSettings(
        smtp_host=args.host,
        smtp_port=args.smtp_port,
        reminders_url=args.reminders_url,
        webhook_secrets=load_secrets(args.webhook_secrets_file) if args.webhook_secrets_file else {},
    )
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.http_port, log_level=args.log_level)


if __name__ == "__main__":
    main()
