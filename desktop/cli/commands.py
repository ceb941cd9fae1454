"""The `callcoach` command: the window with no arguments, headless subcommands otherwise
(`analyze`, `live`, `devices`, `playbook test`).

Nothing here imports Qt until the window is asked for, so `callcoach analyze` runs on a
server with no display and no Qt libraries. Every failure a user can cause ends in a
one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_CANCELLED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcoach",
        description="Local voice coaching for call-center agents. With no command, opens "
                    "the window.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    an = sub.add_parser(
        "analyze", help="analyze recorded calls: transcript, coaching events, scorecard",
        description="Analyze call recordings (stereo: one party per channel; mono: agent "
                    "only). One recording: JSON to stdout (or --json). Several recordings "
                    "or a folder: one JSON and HTML scorecard per call in --out-dir and a "
                    "summary table.")
    an.add_argument("recordings", nargs="+", metavar="RECORDING",
                    help="audio file(s) (WAV, FLAC, MP3, OGG, M4A) or folder(s) of them")
    an.add_argument("--agent-channel", choices=("left", "right"), default="left",
                    help="which stereo channel is the agent (default: left)")
    an.add_argument("--model", metavar="NAME_OR_PATH", default=None,
                    help="Whisper model: the bundled tiny.en (default), another "
                         "faster-whisper size, or a local CTranslate2 model folder")
    an.add_argument("--playbook", metavar="FILE", default=None,
                    help="a playbook TOML file (default: the bundled one)")
    an.add_argument("--json", metavar="OUT", default=None,
                    help="write the JSON here instead of stdout (one recording)")
    an.add_argument("--html", metavar="OUT", default=None,
                    help="also write a self-contained HTML scorecard (one recording)")
    an.add_argument("--out-dir", metavar="DIR", default="callcoach-reports",
                    help="where several recordings' reports go (default: %(default)s)")
    an.add_argument("--no-transcribe", action="store_true",
                    help="acoustic cues only (no Whisper): fast, no phrase checks")
    an.add_argument("--ray", metavar="ADDRESS", default=None,
                    help="spread the recordings over a Ray cluster: 'auto' (the running "
                         "cluster), 'ray://HOST:10001' (a remote one), 'local' (start one "
                         "here). Recordings and --out-dir must be on a folder every node "
                         "sees. Needs pip install 'callcoach[cluster]'")
    an.add_argument("--no-overlap", action="store_true",
                    help="several recordings locally: one call at a time, on both of "
                         "Whisper's threads (by default two calls run at once, one each)")
    an.add_argument("-q", "--quiet", action="store_true",
                    help="no summary or progress on stderr")
    sub.add_parser("devices", help="list the audio inputs to choose from (live)")
    lv = sub.add_parser("live", help="coach a live call headless: prompts as they fire",
                        description="Capture the agent's microphone and the customer's audio "
                                    "(a monitor/loopback input), print prompts as they fire "
                                    "and write the call as analyze's JSON at the end.")
    lv.add_argument("--agent-device", metavar="NAME", help="id or part of a name "
                    "(callcoach devices); default: the first microphone")
    lv.add_argument("--customer-device", metavar="NAME", help="id or part of a name; "
                    "default: the first monitor input; 'none' for agent-only")
    lv.add_argument("--stereo-device", metavar="NAME", help="one device that carries both "
                    "parties, one per channel (a call-center headset adapter or recorder); "
                    "instead of --agent-device/--customer-device")
    lv.add_argument("--agent-side", choices=("left", "right"), default="left",
                    help="with --stereo-device: the agent's channel (default: left)")
    lv.add_argument("--duration", type=float, metavar="S", help="stop after S seconds "
                    "(default: until Ctrl+C)")
    lv.add_argument("--json", metavar="OUT", help="write the call's JSON here")
    lv.add_argument("--model", metavar="NAME_OR_PATH", default=None)
    lv.add_argument("--playbook", metavar="FILE", default=None)
    lv.add_argument("--no-transcribe", action="store_true")
    lv.add_argument("--no-history", action="store_true",
                    help="do not save this call in the call history")
    lv.add_argument("-q", "--quiet", action="store_true",
                    help="no prompts on the terminal; JSON on stdout without --json")
    pb = sub.add_parser("playbook", help="check a playbook: which phrase sets sentences say",
                        description="Tools for trainers editing a playbook.")
    pb_sub = pb.add_subparsers(dest="playbook_command", metavar="ACTION", required=True)
    pt = pb_sub.add_parser(
        "test", help="judge speaker<TAB>text lines against the playbook",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Judge each line against the playbook exactly as the coaching engine "
                    "judges an utterance\nof that speaker: by the phrase sets' patterns and "
                    "by meaning. The sentence encoder is\nloaded first; if it cannot load, a "
                    "note says so and the patterns alone are used.\nPrints one JSON object "
                    "per line: {\"line\": N, \"speaker\": ..., \"text\": ..., "
                    "\"intents\": [...]}.",
        epilog="Input: one utterance a line, 'agent<TAB>text' or 'customer<TAB>text'. "
               "Blank lines and lines\nstarting with # are skipped; more TAB fields after "
               "the text (expected labels) are ignored.\nText in UTF-8 (a spreadsheet's "
               "UTF-16 'Unicode text' is read too).\n\n"
               "A bad line (no TAB, an unknown speaker, not UTF-8) is reported on stderr "
               "with its number,\nthe other lines are still judged, and the exit status is "
               "1. A missing file or a bad\nplaybook: one line on stderr, nothing judged, "
               "exit status 1.\n\n"
               "example:\n"
               "  printf 'agent\\tSorry, could you repeat that?\\n' | callcoach playbook "
               "test - --why")
    pt.add_argument("file", metavar="FILE", help="the lines to judge ('-': standard input)")
    pt.add_argument("--playbook", metavar="P", default=None,
                    help="a playbook TOML file (default: the bundled one)")
    pt.add_argument("--why", action="store_true",
                    help="also say, per intent, why it matched: the words, and the pattern or "
                         "the example sentence and how close (\"why\": {set: {...}}); and "
                         "which sets came near but did not count, and why (\"not_counted\": "
                         "a guard said there, or a near miss it is closer to)")
    tr = pb_sub.add_parser(
        "train", help="teach the learned intents from labelled lines",
        description="Train the model the playbook's [learned] section names, from lines "
                    "labelled\n'speaker<TAB>text<TAB>labels' (labels: the phrase sets the "
                    "line says, comma-separated,\nor '-' for none), the way 'callcoach "
                    "playbook test' reads them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  callcoach playbook train bench/data/phrase_blind_*.tsv "
               "--out my_intents.npz")
    tr.add_argument("files", metavar="FILE", nargs="+", help="labelled lines (UTF-8)")
    tr.add_argument("--out", metavar="MODEL", required=True,
                    help="where to write the model (.npz)")
    tr.add_argument("--playbook", metavar="P", default=None,
                    help="the playbook whose phrase sets to learn (default: the bundled one)")
    # `callcoach history ...`: its options live in desktop/cli/history_cli.py.
    from desktop.cli.history_cli import add_history_parser

    add_history_parser(sub)
    return parser


def _error(message: str) -> None:
    print(f"callcoach: error: {message}", file=sys.stderr)


def _options(args: argparse.Namespace):
    from audio.analysis import AnalysisOptions

    return AnalysisOptions(agent_channel=args.agent_channel, model=args.model,
                           playbook_path=args.playbook, transcribe=not args.no_transcribe)


def _write_text(path: str, text: str) -> None:
    out = Path(path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def _analyze_one(args: argparse.Namespace, path: str) -> int:
    from audio.analysis import analyze_recording, loudness_tracks
    from audio.contract import analysis_to_dict
    from desktop.cli.terminal import ProgressBar, summary_lines

    bar = ProgressBar(Path(path).name) if not args.quiet else None
    try:
        analysis = analyze_recording(path, _options(args), progress=bar)
    finally:
        if bar:
            bar.close()
    doc = analysis_to_dict(analysis)
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if args.json:
        _write_text(args.json, text + "\n")
    else:
        sys.stdout.write(text + "\n")
    if args.html:
        from desktop.reports.html_report import render_html

        _write_text(args.html, render_html(doc, loudness_tracks(analysis.timeline)))
    if not args.quiet:
        print("\n".join(summary_lines(analysis)), file=sys.stderr)
    return EXIT_OK


def _analyze(args: argparse.Namespace) -> int:
    from desktop.cli.batch import expand_recordings, run_batch

    paths = expand_recordings(args.recordings)
    single = (len(args.recordings) == 1 and not Path(args.recordings[0]).is_dir()
              and not args.ray)
    if single:
        return _analyze_one(args, args.recordings[0])
    if args.json or args.html:
        _error("--json/--html name one file; with several recordings use --out-dir")
        return EXIT_USAGE
    if not paths:
        _error("no audio files found in " + ", ".join(args.recordings))
        return EXIT_FAILED
    if args.ray:
        from desktop.cli.ray_batch import _import_ray

        _import_ray()  # not installed: said before any work
    return run_batch(paths, _options(args), Path(args.out_dir), quiet=args.quiet,
                     ray_address=args.ray, overlap=not args.no_overlap)


def _open_window() -> int:
    from desktop.window.gui_main import main as gui_main

    return gui_main()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `callcoach` console script."""
    args = build_parser().parse_args(argv)
    from audio.analysis import AnalysisCancelled
    from audio.devices import DeviceError
    from audio.model_location import ModelError
    from audio.recording import RecordingError
    from coaching.playbook import PlaybookError
    from desktop.cli.playbook_cli import PlaybookTestError
    from desktop.cli.playbook_train_cli import TrainInputError
    from desktop.cli.ray_batch import ClusterError
    from desktop.crash_log import log_exception

    try:
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "devices":
            from desktop.cli.live_cli import run_devices

            return run_devices()
        if args.command == "live":
            from desktop.cli.live_cli import run_live

            if args.stereo_device and (args.agent_device or args.customer_device):
                _error("--stereo-device carries both parties: leave out --agent-device "
                       "and --customer-device")
                return EXIT_USAGE
            return run_live(args.agent_device, args.customer_device, args.duration, args.json,
                            args.model, args.playbook, not args.no_transcribe, args.quiet,
                            history=not args.no_history, stereo=args.stereo_device,
                            agent_side=args.agent_side)
        if args.command == "playbook":
            if args.playbook_command == "train":
                from desktop.cli.playbook_train_cli import run_playbook_train

                return run_playbook_train(args.files, args.out, args.playbook)
            from desktop.cli.playbook_cli import run_playbook_test

            return run_playbook_test(args.file, args.playbook, args.why)
        if args.command == "history":
            from desktop.cli.history_cli import run_history

            return run_history(args)
        return _open_window()
    except (PlaybookTestError, TrainInputError, ClusterError) as exc:
        _error(str(exc))
        return EXIT_FAILED
    except (RecordingError, ModelError, PlaybookError, DeviceError) as exc:
        _error(str(exc))
        return EXIT_FAILED
    except OSError as exc:  # an output file that cannot be written, a full disk
        _error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return EXIT_FAILED
    except (KeyboardInterrupt, AnalysisCancelled):
        print("callcoach: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - the user gets a line, the log the traceback
        where = log_exception(exc)
        _error(f"internal error: {exc.__class__.__name__}: {exc} (details in {where})")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
