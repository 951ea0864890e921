"""Command line of Trợ lý số: `python -m bot <command>`."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from bot.settings import load_env_file


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Trợ lý số")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="train if needed, then run Rasa, actions and the web app")
    train = commands.add_parser("train", help="train the model if the data changed")
    train.add_argument("--force", action="store_true", help="train even if a fitting model exists")
    commands.add_parser("model-path", help="print the path of the model that fits the data")
    commands.add_parser("web", help="run only the web app")
    commands.add_parser(
        "telegram-polling", help="fetch Telegram updates and hand them to the running Rasa server's webhook"
    )
    args = parser.parse_args(argv)

    load_env_file()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.command == "serve":
        from bot.serve import serve

        return serve()
    if args.command == "train":
        from bot.training import ensure_model

        print(ensure_model(force=args.force))
        return 0
    if args.command == "model-path":
        from bot.training import model_path

        print(model_path())
        return 0
    if args.command == "web":
        from bot.web.app import run

        run()
        return 0
    if args.command == "telegram-polling":
        from bot.channels.telegram_polling import run as run_polling

        return run_polling()
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
