"""Index builds off to the side: a copy of the shard is built in a second process and swapped in.

qdrant-edge holds the GIL for the whole of ``optimize()`` (16-130 s at 100k x 384-d), so an
engine process that builds in place answers nothing until the build ends. When a vector index
build is due (``indexing_threshold``) on a collection of at least
``AQDRANT_SIDE_BUILD_MIN_POINTS`` points (default 1,000), the engine process builds it this way
instead, answering every request meanwhile from the original shard (exact search while it is
unindexed); other optimizer runs (merges, vacuum) stay in place:

1. **copy** - the engine flushes the shard and starts a builder process (``builder_main``),
   which copies the shard's directory to a new one under the root. Reads are served during the
   copy; an update of that collection waits until the copy is done (the files must not change
   under it: ~0.3 s per 100k x 384-d on tmpfs).
2. **build** - the builder loads the copy, runs its optimizers (niced below the engine), flushes
   and exits. Every update applied to the original from the copy on is recorded, in order
   (``Recording``: the shard object the engine sees meanwhile).
3. **replay** - the engine loads the built copy (~60 ms at 100k x 384-d) and applies the
   recorded updates to it, one per turn of the serving loop, between requests; updates keep
   being recorded until nothing is left.
4. **swap** - the catalog points at the new directory (saved atomically), the original shard is
   closed and its directory removed.

No acknowledged write is lost by a crash at any point: until the catalog is saved, the
original directory holds every acknowledged write (its WAL) and the copy is an orphan removed
on the next open; once it is saved, the copy holds them all (the replayed updates are in its
WAL). Anything that closes or reconfigures the shard (``update_collection``, vector names,
``delete_collection``, an explicit ``optimize``, the engine's close) cancels the build first; a
build whose replay diverges from what the original did (an update that failed on one shard
only) is dropped, the original kept.

Run in the engine process (imported as ``sidebuild`` next to ``engine``, or as part of the
package); the builder runs ``python -c _BUILDER_BOOT <this directory> SRC DST``.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from typing import Any

import qdrant_edge as qe

if __package__:
    from . import catalog as cat
else:  # imported next to `engine` (see engine.py)
    import catalog as cat  # type: ignore[no-redef]

#: collections with fewer points are optimized in place (their build is short); tests set 0
MIN_POINTS_ENV = "AQDRANT_SIDE_BUILD_MIN_POINTS"
DEFAULT_MIN_POINTS = 1000
#: test hook: a path; the builder creates ``<path>.waiting`` once the copy is done and waits for
#: ``<path>`` to exist before building, so a test can act while a build is in progress
GATE_ENV = "AQDRANT_SIDE_BUILD_GATE"
#: the builder's niceness on top of the engine's: the engine's answers come first
BUILDER_NICE = 9
#: set to 1: every piece of build work done in the serving loop is logged with its duration
#: (what a request may wait for: the flush before the copy, loading the built copy, a replayed
#: update, the swap, closing and removing the original)
TRACE = os.environ.get("AQDRANT_SIDE_BUILD_TRACE") == "1"

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUILDER_BOOT = (
    "import sys; sys.modules['typing_extensions'] = None; sys.path[0] = sys.argv.pop(1); "
    "import sidebuild; sidebuild.builder_main()"
)


def min_points() -> int:
    try:
        return int(os.environ.get(MIN_POINTS_ENV, DEFAULT_MIN_POINTS))
    except ValueError:
        return DEFAULT_MIN_POINTS


def _log(message: str) -> None:
    print(f"aqdrant engine: {message}", file=sys.stderr, flush=True)


class Recording:
    """The shard the engine uses while a side build runs: everything passes through to the
    original; updates are recorded for the replay (and wait for the copy to end first);
    ``close`` and ``optimize`` cancel the build."""

    def __init__(self, shard: Any, build: SideBuild) -> None:
        self._shard = shard
        self._build = build

    def update(self, operation: Any) -> Any:
        self._build.wait_copied()
        if not self._build.recording:  # the copy failed: the build is cancelled
            return self._shard.update(operation)
        try:
            result = self._shard.update(operation)
        except BaseException:
            self._build.log.append((operation, False))
            raise
        self._build.log.append((operation, True))
        return result

    def optimize(self) -> Any:
        self._build.cancel(None)  # asked for in place: the caller waits for it
        return self._shard.optimize()

    def close(self) -> Any:
        self._build.cancel(None)
        return self._shard.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shard, name)


class SideBuild:
    """One collection's build off to the side (see the module docstring)."""

    def __init__(self, engine: Any, name: str) -> None:
        self.engine = engine
        self.name = name
        self.original = engine.shards[name]
        self.src = engine.catalog.collections[name].dir
        self.dst = engine.catalog.new_dir()
        #: (update operation, whether it succeeded on the original), in the order applied
        self.log: list[tuple[Any, bool]] = []
        self.replayed = 0
        self.copied = False
        self.recording = True
        self.optimized = False
        self.built: Any = None  # the built copy, once loaded
        self.done = False
        #: what is left to do after the swap (close the original, remove its directory)
        self.retiring: list[Any] = []
        self._buf = b""
        t0 = time.perf_counter()
        self.original.flush()  # the copy then reflects every acknowledged write in segment files
        if TRACE:
            _log(f"{name}: side build: flush before the copy: {(time.perf_counter() - t0) * 1e3:.1f} ms")
        self.proc: subprocess.Popen | None = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _BUILDER_BOOT,
                _HERE,
                os.path.join(engine.root, self.src),
                os.path.join(engine.root, self.dst),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None,
        )
        engine.shards[name] = Recording(self.original, self)

    # -- events from the builder ------------------------------------------------------------

    @property
    def out(self) -> Any:
        """The builder's event pipe while it runs (for select), else None."""
        return self.proc.stdout if self.proc is not None else None

    def on_event(self) -> None:
        """Read what the builder said (it is readable): ``copied``, ``built 0|1``, or its exit."""
        assert self.proc is not None and self.proc.stdout is not None
        data = os.read(self.proc.stdout.fileno(), 4096)
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            if line == b"copied":
                self.copied = True
            elif line.startswith(b"built "):
                self.optimized = line == b"built 1"
        if data:
            return
        code = self.proc.wait()
        self.proc.stdout.close()
        self.proc = None
        if code != 0 or not self.copied:
            self.cancel(f"the builder process failed (exit status {code})")
            return
        try:
            self.built = qe.EdgeShard.load(os.path.join(self.engine.root, self.dst))
        except Exception as e:  # noqa: BLE001 - keep serving from the original
            self.cancel(f"the built copy could not be opened: {e}")

    def wait_copied(self) -> None:
        """Block until the builder has copied the shard (an update must not change it meanwhile)."""
        while not self.copied and self.proc is not None:
            select.select([self.proc.stdout], [], [])
            self.on_event()

    # -- replay and swap --------------------------------------------------------------------

    @property
    def has_step(self) -> bool:
        return (self.built is not None and not self.done) or bool(self.retiring)

    def step(self) -> None:
        """One recorded update replayed on the built copy, the swap when none is left, or one
        step of retiring the original after the swap."""
        if self.retiring:
            try:
                self.retiring.pop(0)()
            finally:
                if not self.retiring:
                    self.engine.side.finished(self)
            return
        if self.replayed < len(self.log):
            operation, ok = self.log[self.replayed]
            self.replayed += 1
            try:
                self.built.update(operation)
                ok_here = True
            except BaseException as e:  # noqa: BLE001 - a Rust panic is a BaseException
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                ok_here = False
            if ok_here != ok:
                self.cancel("an update replayed on the built copy did not do what it did on the original")
            return
        self._swap()

    def _swap(self) -> None:
        engine = self.engine
        entry = engine.catalog.collections[self.name]
        self.built.flush()
        entry.dir = self.dst
        try:
            cat.save(engine.root, engine.catalog)
        except BaseException:
            entry.dir = self.src
            self.cancel("the catalog could not be saved")
            raise
        # from here on the built copy is the collection's shard (every acknowledged write is in it)
        engine.shards[self.name] = self.built
        self.built = None
        self.done = True
        self.recording = False
        if self.optimized:
            engine.built.add(self.name)
        # the original is closed in the next turn (requests served in between: ~30 ms at 100k x
        # 384-d) and its directory removed by a thread (~200 ms of unlink calls, which release the
        # GIL); an orphan left by a crash meanwhile is removed on the next open
        src = os.path.join(engine.root, self.src)
        self.retiring = [self.original.close, lambda: engine.side.remove_in_background(src)]

    def finish(self) -> None:
        """Run what is left of retiring the original now (the engine is closing)."""
        while self.retiring:
            try:
                self.step()
            except Exception:  # noqa: BLE001 - closing everything matters more
                pass

    # -- cancel -----------------------------------------------------------------------------

    def cancel(self, why: str | None) -> None:
        """Drop the build: the original stays the collection's shard (unindexed parts served by
        exact search). ``why`` None: the shard is being closed or optimized in place; otherwise
        the reason is logged, and the next write to the collection starts a new build (no retry
        loop for a build that cannot succeed)."""
        if self.done:
            return
        self.done = True
        self.recording = False
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        if self.built is not None:
            try:
                self.built.close()
            except Exception:  # noqa: BLE001
                pass
            self.built = None
        shutil.rmtree(os.path.join(self.engine.root, self.dst), ignore_errors=True)
        if self.engine.shards.get(self.name) is not None and isinstance(
            self.engine.shards[self.name], Recording
        ):
            self.engine.shards[self.name] = self.original
        if why is not None:
            _log(f"{self.name}: index build off to the side dropped ({why}); the collection is unchanged")
        self.engine.side.finished(self)


class SideBuilds:
    """The engine's builds off to the side: at most one at a time (the machine's cores)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.current: SideBuild | None = None
        self._removals: list[Any] = []

    @property
    def active(self) -> bool:
        return self.current is not None

    def building(self, name: str) -> bool:
        """``name`` is being built (not yet swapped in: once it is, only the original's retirement
        is left, and the collection is served by its index)."""
        return self.current is not None and self.current.name == name and not self.current.done

    def start(self, name: str, shard: Any) -> bool:
        """Start building ``name`` off to the side if it is worth it; False: build it in place."""
        if self.current is not None:
            return False
        if shard.info().points_count < min_points():
            return False
        self.current = SideBuild(self.engine, name)
        return True

    def finished(self, build: SideBuild) -> None:
        if self.current is build:
            self.current = None

    def turn(self, inp: Any) -> bool:
        """One turn of the serving loop while a build runs: wait for a request or a builder event,
        handle the event or do one replay step; True when a request is waiting. A replay step and
        a request take turns, so a request waits for at most one step."""
        build = self.current
        assert build is not None
        out = build.out
        due = build.has_step
        ready = select.select([inp] + ([out] if out is not None else []), [], [], 0 if due else None)[0]
        t0 = time.perf_counter()
        try:
            if out is not None and out in ready:
                build.on_event()
                what = "builder event"
            elif due:
                what = f"step (replayed {build.replayed}/{len(build.log)}, retiring {len(build.retiring)})"
                build.step()
            else:
                what = ""
            if TRACE and what:
                _log(f"{build.name}: side build: {what}: {(time.perf_counter() - t0) * 1e3:.1f} ms")
        except Exception as e:  # noqa: BLE001 - the build must never take the serving loop down
            import traceback

            traceback.print_exc()
            if build.retiring:
                build.retiring.clear()
                self.finished(build)
            else:
                build.cancel(f"{type(e).__name__}: {e}")
        return inp in ready

    def remove_in_background(self, path: str) -> None:
        import threading

        self._removals = [t for t in self._removals if t.is_alive()]
        thread = threading.Thread(
            target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True}, daemon=True
        )
        thread.start()
        self._removals.append(thread)

    def wait_removals(self) -> None:
        for thread in self._removals:
            thread.join()
        self._removals = []

    def cancel_all(self) -> None:
        """Stop everything before the engine closes its shards."""
        build = self.current
        if build is not None:
            if build.retiring:
                build.finish()
            else:
                build.cancel(None)
        self.wait_removals()


# ---------------------------------------------------------------------------------------------
# the builder process


def _die_with_parent() -> None:
    """SIGKILL this process when the engine process dies (Linux): a build for a dead engine is
    wasted, and its copy is removed by the next engine as an orphan."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the engine kills it on close
        pass


def _wait_gate() -> None:
    gate = os.environ.get(GATE_ENV)
    if not gate:
        return
    with open(gate + ".waiting", "w"):
        pass
    while not os.path.exists(gate):
        time.sleep(0.02)


def builder_main(argv: list[str] | None = None) -> None:
    src, dst = sys.argv[1:3] if argv is None else argv
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the engine died before the line above
        os._exit(1)
    try:
        os.nice(BUILDER_NICE)
    except OSError:
        pass
    try:
        shutil.copytree(src, dst)
        os.write(1, b"copied\n")
        _wait_gate()
        shard = qe.EdgeShard.load(dst)
        optimized = shard.optimize()
        shard.flush()
        shard.close()
        os.write(1, b"built 1\n" if optimized else b"built 0\n")
    except BaseException as e:  # noqa: BLE001 - the engine drops the build
        print(f"aqdrant engine: index builder: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(0)
