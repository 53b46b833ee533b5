"""The shell figures: what ``azctx init`` costs a prompt and a shell start.

- the prompt segment: bash running init's prompt hook (read the session's prompt file
  with builtins), per prompt, against one ``azctx current`` (what a prompt that runs
  azctx pays every time);
- shell start: an interactive bash in a pty whose startup file holds
  ``eval "$(azctx init bash)"`` (which starts the shell's session), against the same
  bash whose startup file runs one ``azctx current`` (one azctx process, the floor of
  anything that asks azctx at start), and, as a reference, against a bare bash.
"""

from __future__ import annotations

import os
import pty
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from figures_cli import Runner, azctx_argv, session_exports
from report import Row, at_most, failed, fmt, ratio_row
from stores import new_store, populate
from timing import BenchError, interleave, median, run_once

PROMPTS = 1000


def _hook_script(root: Path, env: dict[str, str]) -> Path:
    done = subprocess.run(
        [*azctx_argv(), "init", "bash"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    path = root / "init.bash"
    path.write_text(done.stdout)
    return path


def _per_prompt(script: Path, env: dict[str, str]) -> float:
    """Seconds per prompt hook, timed inside bash (``EPOCHREALTIME``)."""
    loop = (
        f"source {script}; __azctx_hook; t0=$EPOCHREALTIME;"
        f" for ((i=0; i<{PROMPTS}; i++)); do __azctx_hook; done;"
        ' echo "$t0 $EPOCHREALTIME $AZCTX_PROMPT"'
    )
    done = subprocess.run(
        ["bash", "--norc", "-i", "-c", loop],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 3 or not words[2]:
        raise BenchError(f"the prompt hook did not show the context: {done.stdout!r}")
    return (float(words[1]) - float(words[0])) / PROMPTS


def _start_bash(rc: Path, env: dict[str, str]) -> float:
    """Seconds from starting an interactive bash in a pty to its exit at the end of
    its startup file."""
    master, slave = pty.openpty()
    start = time.perf_counter()
    shell = subprocess.Popen(
        ["bash", "--rcfile", str(rc), "-i"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        while os.read(master, 65536):
            pass
    except OSError:
        pass  # EIO: the pty's other end is closed
    finally:
        os.close(master)
    code = shell.wait()
    elapsed = time.perf_counter() - start
    if code != 0:
        raise BenchError(f"bash with {rc.name} exited {code}")
    return elapsed


def shell_figures(root: Path, rounds: int) -> Iterator[Row]:
    store = new_store(root / "shell")
    populate(store)
    env = {**store.env, **session_exports(store.env), "TERM": "dumb"}
    env.pop("PROMPT_COMMAND", None)
    yield _prompt_row(root, env, rounds)
    yield from _start_rows(root, store.env, rounds)


def _prompt_row(root: Path, env: dict[str, str], rounds: int) -> Row:
    figure = "prompt segment per prompt (init's hook) / `azctx current`"
    script = _hook_script(root, env)
    current = Runner(env).azctx("current")
    try:
        samples = interleave(
            {"hook": lambda: _per_prompt(script, env), "current": lambda: run_once(current)},
            rounds,
        )
    except BenchError as exc:
        return failed(figure, "≤ 0.01", str(exc))
    hook, floor = median(samples["hook"]), median(samples["current"])
    row = ratio_row(figure, hook, floor, "s", "≤ 0.01", at_most(0.01))
    return Row(
        row.figure, f"{hook * 1e6:.0f} µs", fmt(floor, "s"), row.ratio, row.target, row.passed
    )


def _start_rows(root: Path, env: dict[str, str], rounds: int) -> Iterator[Row]:
    exe = " ".join(azctx_argv())
    rcs = {
        "init": f'eval "$({exe} init bash)"\ntrap - EXIT\nexit\n',
        "current": f"{exe} current >/dev/null\nexit\n",
        "bare": "exit\n",
    }
    paths = {}
    for name, text in rcs.items():
        paths[name] = root / f"rc-{name}"
        paths[name].write_text(text)
    shell_env = {k: v for k, v in env.items() if not k.startswith("AZCTX_SESSION")}
    figure = "bash start with `azctx init bash` / with one `azctx current`"
    try:
        samples = interleave(
            {name: (lambda p=path: _start_bash(p, shell_env)) for name, path in paths.items()},
            rounds,
        )
    except BenchError as exc:
        yield failed(figure, "≤ 1.5", str(exc))
        return
    init, current, bare = (median(samples[n]) for n in ("init", "current", "bare"))
    yield ratio_row(figure, init, current, "s", "≤ 1.5", at_most(1.5))
    yield Row(
        "bash start with `azctx init bash` / bare bash",
        fmt(init, "s"),
        fmt(bare, "s"),
        init / bare,
        "-",
        None,
        reference=True,
    )
