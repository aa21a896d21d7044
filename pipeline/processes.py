"""Processes that work for one build: a pool of spawned workers that die with it.

The build hands them tasks (``run``): parsing sources into the object store, making renamed
objects. A task is a top-level function of the build taking ``(task, memo)``: here, ``memo`` is
the build's ``parsers.ParseMemo``; in a worker it is None, and the task makes one of its own for
its share of the sources, which goes with it. Tasks are few and large (``tasks``), so that each
one's memo sees most of the texts its sources repeat.
"""
from __future__ import annotations

import contextlib
import os
import sys

#: sources parsed in one process below this many (a pool costs more than it saves)
POOL_MIN_SOURCES = 12
#: sources one worker task parses, at least
TASK_SOURCES = 8
#: tasks per worker: enough that a worker finishing early takes another, few enough that each
#: task's memo (its share of the sources) sees most repeated texts
TASKS_PER_WORKER = 3


def pool_size(workers: int | None, sources: int) -> int:
    """Processes to parse ``sources`` with (one per core unless told); 0: no pool at all."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    return workers if workers > 1 and sources >= POOL_MIN_SOURCES else 0


def tasks(items: list, workers: int | None) -> list[list]:
    """``items`` in consecutive tasks: ``TASKS_PER_WORKER`` per worker of the pool they will
    go to (``pool_size``), of ``TASK_SOURCES`` items at least."""
    size = pool_size(workers, len(items)) or 1
    n = max(TASK_SOURCES, -(-len(items) // (size * TASKS_PER_WORKER)))
    return [items[i:i + n] for i in range(0, len(items), n)]


def progress_bar(total: int, enabled: bool, what: str):
    """A progress bar on a terminal (never in CI, never when stderr is not a TTY)."""
    if not enabled or total < 50 or os.environ.get("CI") or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc=what, file=sys.stderr, leave=False)


def run(fn, tasks: list, items: int, workers: int | None, progress: bool, what: str) -> None:
    """``fn(task, memo)`` for every task, in a pool of worker processes when there are enough
    ``items`` (``pool_size``; ``memo`` None: each task makes its own), else here (with this
    build's ``parsers.ParseMemo``)."""
    from pipeline.parsers import ParseMemo

    size = pool_size(workers, items)
    bar = progress_bar(items, progress, what)
    memo = ParseMemo()
    try:
        with worker_processes(size) if size else contextlib.nullcontext() as pool:
            if pool:
                with _spawning():  # map submits every task: the workers start now
                    done = pool.map(fn, tasks)
            else:
                done = (fn(t, memo) for t in tasks)
            for task, _ in zip(tasks, done):
                if bar:
                    bar.update(len(task[0]))
    finally:
        if bar:
            bar.close()


@contextlib.contextmanager
def worker_processes(n: int):
    """``n`` processes that work for this build and die with it.

    Spawned, not forked: a forked worker would hold every file the build has open, the output
    lock among them, and would start at the build's size (forking a process that runs threads
    can also deadlock). Each one ignores Ctrl-C (the build handles it, once) and exits as soon
    as the build is gone, however it went (``_worker_init``). On an error, or Ctrl-C, the build
    does not wait for the tasks under way: a worker finishes at most the one it has, then
    finds nothing more to do."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=n, initializer=_worker_init,
                               initargs=(os.getpid(),),
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextlib.contextmanager
def _spawning():
    """Around the call that starts workers (a pool starts them as tasks are submitted): Ctrl-C
    is ignored for that moment, and so from their first instruction in the processes it starts
    (an ignored signal stays ignored across exec, and Python leaves it so), before
    ``_worker_init`` can run. Otherwise a Ctrl-C while a worker imports is its traceback."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # (signals are the main thread's; a library caller in a thread keeps its own)
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


#: how often a worker checks that its build is still there (``_worker_init``)
ORPHAN_CHECK_SECONDS = 0.2


def _worker_init(build_pid: int) -> None:
    """Ctrl-C reaches every process of the terminal's group: the build stops its workers, so
    they ignore it (instead of each printing a traceback). A thread watches for the build's
    end: a build that is killed (SIGKILL runs no clean-up) leaves its workers to the init
    process, and they must not go on holding its files, its terminal or the caller's pipe."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == build_pid:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="orphan-check", daemon=True).start()


