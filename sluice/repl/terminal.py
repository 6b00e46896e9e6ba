"""The REPL at a terminal: a prompt-toolkit prompt around a `Session` (colours from the Deluge
lexer, completion, history in the Sluice home, Enter runs an entry once it is complete); with no
terminal, entries are read from standard input instead."""

from __future__ import annotations

from pathlib import Path

from ..adapters import standard_services
from .session import Outcome, Session, completions


def _link_names_from_store():
    from connections import Store

    with Store.open() as store:
        return [r.link_name for r in store.connections()]


def interact(session: Session | None = None, *, history_file: Path | None = None,
             out=None) -> int:
    import sys

    if session is None:
        session = Session(services=standard_services(), connections=_link_names_from_store)
    if not sys.stdin.isatty():
        return _read_eval_print(session, sys.stdin, out or sys.stdout)
    return _prompt_loop(session, history_file)


def _emit(outcome: Outcome, write) -> None:
    for note in outcome.notes:
        write(f"note: {note}")
    if outcome.message:
        write(outcome.message)
    if outcome.value is not None:
        write(outcome.value)
    if outcome.error:
        write(outcome.error)


def _read_eval_print(session: Session, stream, out) -> int:
    """No terminal: entries from `stream`, each ending when it is complete. Exit code 1 when an
    entry failed (as `python - < file` would), 0 otherwise; a failed entry stops nothing."""

    def write(text):
        print(text, file=out, flush=True)

    pending, failed = "", False
    for line in stream:
        pending += line
        if session.needs_more(pending):
            continue
        try:
            outcome = session.execute(pending, on_info=write)
        except KeyboardInterrupt:
            write("interrupted")
            outcome = Outcome(error="interrupted")
        pending = ""
        _emit(outcome, write)
        failed = failed or outcome.error is not None
        if outcome.quit:
            return 1 if failed else 0
    if pending.strip():
        outcome = session.execute(pending, on_info=write)
        _emit(outcome, write)
        failed = failed or outcome.error is not None
    return 1 if failed else 0


def _prompt_loop(session: Session, history_file: Path | None) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer

    from .lexer import DelugeLexer

    class DelugeCompleter(Completer):
        def get_completions(self, document, complete_event):
            for text, start in completions(session, document.text_before_cursor):
                yield Completion(text, start_position=start)

    keys = KeyBindings()

    @keys.add("enter")
    def _(event):
        buffer = event.current_buffer
        if buffer.complete_state and buffer.complete_state.current_completion:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if session.needs_more(buffer.text):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")  # Alt-Enter: a new line even when the entry could run
    def _(event):
        event.current_buffer.insert_text("\n")

    history = InMemoryHistory()
    if history_file is None:
        history_file = _history_path()
    if history_file is not None:
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history = FileHistory(str(history_file))
        except OSError:
            pass
    prompt = PromptSession(
        history=history, lexer=PygmentsLexer(DelugeLexer), completer=DelugeCompleter(),
        complete_while_typing=False, multiline=True, key_bindings=keys,
        prompt_continuation=lambda width, line, soft: "... ".rjust(width),
        enable_history_search=True)
    print(f"Sluice {_version()} — Deluge, interactively. :help for help, Ctrl-D to leave.")
    while True:
        try:
            text = prompt.prompt("dg> ")
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the entry
        except EOFError:
            return 0
        try:
            outcome = session.execute(text, on_info=lambda line: print(line, flush=True))
        except KeyboardInterrupt:
            print("interrupted; the session goes on")
            continue
        _emit(outcome, print)
        if outcome.quit:
            return 0


def _history_path() -> Path | None:
    try:
        from connections.store import default_home

        return default_home() / "repl-history"
    except Exception:
        return None


def _version() -> str:
    from .. import __version__

    return __version__
