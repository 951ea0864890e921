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
    commands.add_parser("rasa", help="run only the Rasa server(s) (RASA_INSTANCES behind HAProxy)")
    commands.add_parser("actions", help="run only the action server")
    create_admin = commands.add_parser("create-admin", help="create an admin account (password asked, or read from stdin)")
    create_admin.add_argument("username")
    create_admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create_admin.add_argument("--role", choices=["approver", "editor"], default="approver",
                              help="editor: proposes answer changes; approver: also publishes them (default)")
    seed = commands.add_parser("seed-log", help="fill the question log with a synthetic period (to try the dashboard)")
    seed.add_argument("--rows", type=int, default=20_000)
    seed.add_argument("--days", type=int, default=30)
    commands.add_parser("prune-log", help="delete question-log rows older than QUESTION_LOG_RETENTION_DAYS")
    commands.add_parser(
        "telegram-polling", help="fetch Telegram updates and hand them to the running Rasa server's webhook"
    )
    commands.add_parser(
        "questionlog-consumer", help="write the question log from RabbitMQ (RABBITMQ_URL); run one or more"
    )
    from bot.directory.cli import add_arguments as directory_arguments

    directory_arguments(commands.add_parser("directory", help="import/export the team directory (CSV)"))
    from bot.answers.export import add_arguments as answers_arguments

    answers_arguments(commands.add_parser("answers", help="diff/export the answers published in the admin against the repo files"))
    args = parser.parse_args(argv)

    load_env_file()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.log_safety import protect_logs

    protect_logs()  # no bot token (httpx logs request URLs) in any log

    if args.command == "serve":
        from bot.serve import serve

        return serve()
    if args.command in ("rasa", "actions"):
        from bot.serve import serve

        return serve(parts=(args.command,))
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
    if args.command == "create-admin":
        return create_admin_command(args.username, args.password_stdin, args.role)
    if args.command == "seed-log":
        from bot.db.engine import database_url
        from bot.questionlog.seed import seed as seed_log

        print(seed_log(database_url(), rows=args.rows, days=args.days))
        return 0
    if args.command == "prune-log":
        from bot.db.engine import session_factory
        from bot.questionlog.writer import prune, retention_days

        print(prune(session_factory(), retention_days()))
        return 0
    if args.command == "telegram-polling":
        from bot.channels.telegram_polling import run as run_polling

        return run_polling()
    if args.command == "questionlog-consumer":
        from bot.questionlog.consumer import run as run_consumer

        return run_consumer()
    if args.command == "answers":
        from bot.answers.export import run as run_answers

        return run_answers(args)
    if args.command == "directory":
        from bot.directory.cli import run as run_directory

        return run_directory(args)
    parser.error(f"unknown command {args.command}")
    return 2


def create_admin_command(username: str, from_stdin: bool, role: str = "approver") -> int:
    import getpass

    from bot.db.engine import session_factory
    from bot.web.auth import AdminAccounts, AuthError

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Mật khẩu / password: ")
        if getpass.getpass("Nhập lại / again: ") != password:
            print("Passwords differ", file=sys.stderr)
            return 1
    try:
        AdminAccounts(session_factory()).create(username, password, role)
    except AuthError as error:
        print(f"Not created: {error}", file=sys.stderr)
        return 1
    print(f"Admin {username.strip().lower()} created ({role})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
