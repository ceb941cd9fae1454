"""`callcoach history`: the call history from the terminal (no display needed).

`import DIR` loads a folder of `callcoach analyze` reports (a team's batch) into the
history the window's Scorecards page shows, naming each call's agent from its recording's
path or a CSV manifest; `list` prints the calls (by agent, by words said); `agents` the
agents and how many calls each has. The history is the user's own
(`$CALLCOACH_DATA_DIR/history.sqlite3`, else the platform's user data folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop.cli.terminal import ProgressBar, fmt_time
from desktop.history.report_import import (
    AgentOf,
    ReportImportError,
    agent_pattern,
    import_reports,
    read_manifest,
)
from desktop.history.schema import SOURCES
from desktop.history.store import CallHistory, HistoryError

__all__ = ["add_history_parser", "run_history"]

AGENT_FROM_HELP = (
    "name each call's agent from its recording's path: a template with {agent} "
    "('{agent}_*.wav', 'calls/{agent}/*'; * is any text within a name), or a regular "
    "expression whose group 'agent' (or first group) is the name ('^(\\w+)-')")


def add_history_parser(sub: argparse._SubParsersAction) -> None:
    """The `history` subcommand and its actions."""
    hi = sub.add_parser("history", help="the call history: import a batch of reports, list",
                        description="The call history the window's Scorecards page shows.")
    actions = hi.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    im = actions.add_parser(
        "import", help="load a folder of `callcoach analyze` reports into the history",
        description="Load the per-call JSON reports `callcoach analyze ... --out-dir DIR` "
                    "wrote (every *.json under DIR) into the call history, so a trainer "
                    "browses the batch in the window. Importing the same reports again "
                    "adds nothing. A file that is not a callcoach report is said and "
                    "skipped; the exit status is then 1.")
    im.add_argument("folder", metavar="DIR", help="the folder of reports")
    who = im.add_mutually_exclusive_group()
    who.add_argument("--agent-from", metavar="PATTERN", help=AGENT_FROM_HELP)
    who.add_argument("--manifest", metavar="CSV",
                     help="a CSV with a header row and the columns recording,agent (a "
                          "recording matched by its path as analyze was given it, or by "
                          "its file name)")
    im.add_argument("-q", "--quiet", action="store_true",
                    help="only the summary line (and problems) on the terminal")
    ls = actions.add_parser("list", help="the calls in the history, newest first")
    ls.add_argument("--agent", metavar="NAME", help="only this agent's calls (exact name)")
    ls.add_argument("--search", metavar="TEXT", default="",
                    help="only calls whose agent, recording or transcript holds TEXT")
    ls.add_argument("--source", choices=SOURCES, help="only calls of this kind")
    ls.add_argument("--limit", type=int, metavar="N", help="at most N calls")
    actions.add_parser("agents", help="the agents in the history and their calls")


def _say(message: str) -> None:
    print(f"callcoach: {message}", file=sys.stderr)


def _agent_of(args: argparse.Namespace) -> AgentOf | None:
    if args.agent_from:
        return agent_pattern(args.agent_from)
    if args.manifest:
        return read_manifest(args.manifest)
    return None


def _import(history: CallHistory, args: argparse.Namespace) -> int:
    agent_of = _agent_of(args)
    bar = None if args.quiet else ProgressBar("importing")
    try:
        result = import_reports(history, args.folder, agent_of,
                                progress=bar and (lambda done, total, _r: bar(
                                    f"{done}/{total} reports", done / total)))
    finally:
        if bar:
            bar.close()
    if not result.reports:
        _say(f"no reports (*.json) in {args.folder}")
        return 1
    for r in result.skipped:
        _say(f"skipped {r.file}: {r.reason}")
    print(f"{result.summary_line()} (from {Path(args.folder)}, into {history.path})")
    for note in result.notes(with_agents=agent_of is not None):
        print(note)
    if not args.quiet and agent_of is not None:
        agents = sorted({r.agent for r in result.reports if r.agent}, key=str.casefold)
        if agents:
            more = f" and {len(agents) - 20} more" if len(agents) > 20 else ""
            print(f"{len(agents)} agents: {', '.join(agents[:20])}{more}")
    return 1 if result.skipped else 0


def _list(history: CallHistory, args: argparse.Namespace) -> int:
    calls = history.list_calls(search=args.search, source=args.source, agent=args.agent,
                               limit=args.limit)
    if not calls:
        _say("no calls" + (f" of agent {args.agent!r}" if args.agent is not None else "")
             + " in the history")
        return 0
    width = min(24, max(5, *(len(c.agent) for c in calls)))
    print(f"{'id':>5}  {'date':<16}  {'agent':<{width}}  {'length':>7}  {'score':>5}  "
          f"{'source':<9}  recording")
    for c in calls:
        score = "-" if c.score is None else str(c.score)
        print(f"{c.id:>5}  {c.started_at:%Y-%m-%d %H:%M}  {c.agent[:width]:<{width}}  "
              f"{fmt_time(c.duration_s):>7}  {score:>5}  {c.source:<9}  "
              f"{Path(c.recording).name if c.recording else ''}")
    return 0


def _agents(history: CallHistory) -> int:
    agents = history.agents()
    if not agents:
        _say("no call in the history names its agent (callcoach history import "
             "--agent-from or --manifest)")
        return 0
    for name, count in agents:
        print(f"{count:>6}  {name}")
    return 0


def run_history(args: argparse.Namespace) -> int:
    """Run `callcoach history ACTION`; every problem a user can cause is one line."""
    try:
        with CallHistory() as history:
            if args.history_command == "import":
                return _import(history, args)
            if args.history_command == "list":
                return _list(history, args)
            return _agents(history)
    except (HistoryError, ReportImportError) as exc:
        print(f"callcoach: error: {exc}", file=sys.stderr)
        return 1
