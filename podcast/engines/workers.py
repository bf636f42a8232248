"""Worker processes for engines that run on this machine, so that a hang or a crash stops one
request instead of the whole build.

An engine runs locally when it is a :class:`~podcast.engines.base.LocalEngine` (with a
blocking ``synthesize_sync(request)``: espeak, or a plugin), unless it sets
``runs_locally = False``. Other engines (edge talks to a service), and engines whose
factory cannot be sent to another process, run in the build's process.

Each worker process makes its own copy of the engine from the factory and options the
registry made it with, plus the engine's ``worker_options()`` (espeak's copies read the
build's data overlay instead of spending 30-100 ms making their own), then answers requests
over a pipe. The build waits for an answer with a timeout; on timeout it kills that worker
(SIGKILL: a thread stuck in a C library cannot be stopped any other way), and when a worker
dies (a segfault in the library, ``os._exit``) the error says how. A new worker replaces a
lost one for later requests. Workers ignore Ctrl-C (the build stops them) and kill themselves
when the build process goes away, even mid-request. Their temporary files go into a folder
that is removed with the pool, since exit handlers never run in a worker (it leaves with
``os._exit``, or is killed); the folder of a build that was killed goes with the next build.

Start method, measured on this 2-CPU machine (start a worker that makes the espeak engine,
then synthesize one sentence): ``fork`` 6 ms per worker; ``spawn`` 90-110 ms per worker;
``forkserver`` 110-120 ms for the first worker of a build (it starts the server, which
imports ``__main__``, this module and espeak's once) and 6 ms for every later one. We use
``forkserver``. ``fork`` is faster, but workers start while the build runs (a replacement at
any point), when the build process may have threads (progress display, ``asyncio.to_thread``)
whose locks a forked child inherits in whatever state they were in, and open files such as
the episode lock, which a forked worker would keep. ``spawn`` pays a full interpreter start
for every worker. A forkserver child starts from a clean single-threaded process and
inherits only its pipes. As with any start method but ``fork``, a script that builds
episodes through this package must guard its top level with ``if __name__ == "__main__":``.

Even a single request (a preview, or an incremental build with one changed segment) goes to
a worker: that costs about 0.14 s (``podcast preview`` of one espeak segment, cold: 0.48 s in
process, 0.62 s with a worker), and keeps a hang in those cases stoppable too. With both CPUs,
the 17 requests of the sample issue take 0.5 s instead of 0.78 s in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Final

from podcast.engines import registry
from podcast.engines.base import Clip, Engine, LocalEngine, Request
from podcast.errors import EngineError, TransientEngineError

START_METHOD: Final = "forkserver"
PRELOAD = ["__main__", "podcast.engines.workers", "podcast.engines.espeak"]
"""Modules the fork server imports once, so that workers start without importing them."""
START_TIMEOUT_S = 60.0
"""How long a worker may take to make its engine (a large model loads slowly)."""
STOP_WAIT_S = 1.0
"""How long a worker that was asked to stop, or whose pipe closed, may take to exit."""
SCRATCH_PREFIX = "podcast-workers-"

Speak = Callable[[Request, float], Awaitable[Clip]]
"""Synthesize a request within a number of seconds, else raise :class:`TimeoutError`."""


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class EngineSpec:
    """How a worker makes its own copy of an engine, and the version it must report."""

    name: str
    version: str
    factory: registry.Factory
    options: dict[str, Any]


def spec_for(engine: Engine) -> EngineSpec | None:
    """How worker processes can run *engine*, or None when it runs in this process."""
    if not (isinstance(engine, LocalEngine) and engine.runs_locally):
        return None
    made = registry.origin(engine)
    if made is None:
        return None
    factory, options = made
    options.update(engine.worker_options())
    try:
        pickle.dumps((factory, options))
    except (pickle.PicklingError, TypeError, AttributeError):  # a lambda or a closure
        return None
    return EngineSpec(engine.name, engine.version(), factory, options)


@contextlib.asynccontextmanager
async def speaker(engine: Engine, processes: int) -> AsyncIterator[Speak]:
    """A way to synthesize with *engine*: through up to *processes* worker processes when it
    runs locally, else in this process. Workers are stopped on the way out."""
    spec = spec_for(engine) if processes > 0 else None
    if spec is None:
        async def in_process(request: Request, timeout: float) -> Clip:
            return await asyncio.wait_for(engine.synthesize(request), timeout)

        yield in_process
        return
    pool = WorkerPool(spec, processes)
    try:
        yield pool.synthesize
    finally:
        pool.close()


class WorkerPool:
    """Up to *size* worker processes running one engine, started as requests need them."""

    def __init__(self, spec: EngineSpec, size: int) -> None:
        self.spec = spec
        self._slots = asyncio.Semaphore(max(1, size))
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._scratch = _scratch_folder()

    async def synthesize(self, request: Request, timeout: float) -> Clip:
        """*request* spoken by an idle worker; :class:`TimeoutError` (after killing the worker)
        when it takes longer than *timeout* seconds, :class:`TransientEngineError` when the
        worker dies, the engine's own error when it raises one."""
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start()
            try:
                kind, value = await worker.call(request, timeout)
            except TimeoutError:
                self._drop(worker)
                raise TimeoutError("worker stopped") from None
            except BaseException:  # it died, or the build is cancelled while it works
                self._drop(worker)
                raise
            self._idle.append(worker)
        if kind == "error":
            raise value
        assert isinstance(value, Clip)
        return value

    async def _start(self) -> _Worker:
        """A new worker whose engine is ready."""
        context = multiprocessing.get_context(START_METHOD)
        context.set_forkserver_preload(PRELOAD)
        ours, theirs = context.Pipe()
        alive_r, alive_w = context.Pipe(duplex=False)
        process = context.Process(target=_serve, args=(theirs, alive_r, self.spec, self._scratch),
                                  name=f"podcast-{self.spec.name}-worker", daemon=True)
        process.start()
        theirs.close()
        alive_r.close()
        worker = _Worker(process, ours, alive_w)
        self._all.add(worker)
        try:
            kind, value = await worker.receive(START_TIMEOUT_S)
            if kind == "error":
                raise value
            if value != self.spec.version:  # its clips would be cached under the wrong key
                raise EngineError(f"{self.spec.name} is version {value!r} in a worker process but "
                                  f"{self.spec.version!r} here")
        except TimeoutError:
            self._drop(worker)
            raise TransientEngineError(f"{self.spec.name} did not start within "
                                       f"{START_TIMEOUT_S:g} s; worker stopped") from None
        except TransientEngineError as exc:
            self._drop(worker)
            raise TransientEngineError(f"{exc} while starting") from None
        except BaseException:
            self._drop(worker)
            raise
        return worker

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)

    def close(self) -> None:
        """Stop every worker (idle ones are asked to exit, busy ones are killed), and remove
        their temporary files."""
        for worker in self._all:
            worker.ask_to_stop()
        for worker in self._all:
            worker.process.join(STOP_WAIT_S)
            worker.kill()
        self._all.clear()
        self._idle.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _scratch_folder() -> str:
    """A new folder for workers' temporary files, named after this process; first removes
    those of processes that are gone (a build that was killed)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")


def _exists(pid: int) -> bool:
    """Whether a process *pid* exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


class _Worker:
    """One worker process, the build's end of its pipe, and the pipe whose closing it watches."""

    def __init__(self, process: BaseProcess, conn: Connection, alive: Connection) -> None:
        self.process = process
        self.conn = conn
        self.alive = alive

    async def call(self, request: Request, timeout: float) -> tuple[str, Any]:
        """Send *request*; the answer, within *timeout* seconds."""
        try:
            self.conn.send(request)
        except OSError:
            raise TransientEngineError(self.death()) from None
        return await self.receive(timeout)

    async def receive(self, timeout: float) -> tuple[str, Any]:
        """The next message, without blocking the event loop while waiting for it."""
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not readable.done():
                readable.set_result(None)

        fd = self.conn.fileno()
        loop.add_reader(fd, wake)
        try:
            async with asyncio.timeout(timeout):
                await readable
        finally:
            loop.remove_reader(fd)
        try:
            message: tuple[str, Any] = self.conn.recv()
        except (EOFError, OSError):
            raise TransientEngineError(self.death()) from None
        return message

    def death(self) -> str:
        """How the process ended, after its pipe closed."""
        self.process.join(STOP_WAIT_S)
        code = self.process.exitcode
        if code is None:
            return "engine worker closed its pipe"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"engine crashed (signal {signal.Signals(-code).name})"
            return f"engine crashed (signal {-code})"
        return f"engine worker exited with status {code}"

    def ask_to_stop(self) -> None:
        """Tell an idle worker to exit (a busy one will be killed)."""
        with contextlib.suppress(OSError):
            self.conn.send(None)

    def kill(self) -> None:
        """Kill the process if it still runs, and wait for it."""
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join()
        self.conn.close()
        self.alive.close()


def _serve(conn: Connection, alive: Connection, spec: EngineSpec, scratch: str) -> None:
    """A worker process: make the engine, then answer requests until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the build, which stops workers
    threading.Thread(target=_watch, args=(alive,), daemon=True).start()
    tempfile.tempdir = scratch
    try:
        engine = spec.factory(**spec.options)
        assert isinstance(engine, LocalEngine)
        conn.send(("ready", engine.version()))
    except Exception as exc:
        conn.send(("error", _portable(exc, spec.name)))
        return
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            reply: tuple[str, Any] = ("clip", engine.synthesize_sync(request))
        except Exception as exc:
            reply = ("error", _portable(exc, spec.name))
        conn.send(reply)


def _watch(alive: Connection) -> None:
    """Kill this worker once the build closes its end of *alive* or exits, even mid-request."""
    with contextlib.suppress(EOFError, OSError):
        alive.recv()
    os.kill(os.getpid(), signal.SIGKILL)


def _portable(exc: Exception, engine: str) -> EngineError:
    """*exc* as an error that unpickles in the build process whatever module raised it: the
    message, and whether a retry may help."""
    if isinstance(exc, TransientEngineError):
        return TransientEngineError(str(exc))
    if isinstance(exc, EngineError):
        return EngineError(str(exc))
    return EngineError(f"{engine} failed: {type(exc).__name__}: {exc}")
