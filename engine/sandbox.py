"""Script tasks run in a throw-away process that has no powers: the script sandbox.

Why a process: a script is Python with statements, loops and functions, and Python offers no way
to keep such code from reaching the interpreter's internals (frames of generators, tracebacks,
``str.format`` walking attributes, ``object.__subclasses__``…), nor to stop C-level work such as
``7 ** 90000000`` from inside. So the isolation does not rely on what a script can name; it relies
on what the operating system lets the process do:

- **A clean fork server (the zygote).** Each server or worker process starts, on first use, one
  ``python -m engine.sandbox`` with an empty environment (no ``BANJIAN_SECRET_KEY``, no database
  URL), which imports the helper functions and then only waits. It never sees case data.
- **One fresh child per script.** For each script the zygote forks a child that first closes every
  file descriptor except its own socket (and makes 0–2 ``/dev/null``), sets hard limits — address
  space (``memory_mb`` above the zygote's size), CPU seconds, a wall-clock alarm whose default
  action kills it, no file may be written — and installs a seccomp filter, an allow-list of
  system calls (read/write on what is already open, memory management, exit): ``open``,
  ``socket``, ``connect``, ``execve``, ``fork``, ``kill``, ``ptrace`` and everything else fail.
  Only then does it read the script and the variables the script names, run it, write back the
  values it assigned, and exit. A child is never reused, so no script sees another case's data.
- **The server only waits on a socket.** It holds no lock on the interpreter while a script runs,
  so other users' requests go on; a child that overruns its time dies by its alarm or CPU limit,
  and the server reads end-of-file and turns that into an incident in words. A child can block
  its alarm (``rt_sigprocmask`` is allowed: Python needs it) and then sleep on a futex without
  using CPU, so the zygote also keeps every child's deadline and kills it ``GRACE`` seconds after
  it: no child outlives its script's time limit by more than that, whatever it did to itself.

What crosses the socket is JSON with a few tagged types (datetime, timedelta), checked and
capped on the way back — size, number of values, nesting, no NaN or Infinity: a child's answer is
untrusted data (a script that escaped into its own process can write any bytes), never code.

Linux only (seccomp). Where the filter cannot be installed, the zygote says so at start and every
script task becomes an incident ("脚本沙箱不可用"); expressions (``engine.expressions``) still run.
"""
from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.expressions import ScriptRejected

MAX_SCRIPT = 100_000  # characters
MAX_ANSWER_VALUES = 1_000_000  # values in a script's answer (each costs the server ~60 bytes once decoded)
MAX_ANSWER_DEPTH = 64  # nesting of the values a script hands back
GRACE = 1.0  # seconds after its time limit at which the zygote kills a child that is still there
READY = b"ready"
TAG = "$banjian"
# What a script may do once running: read and write its own socket, manage memory, exit.
ALLOWED_SYSCALLS = (
    "read", "write", "readv", "writev", "close", "lseek", "mmap", "munmap", "mremap",
    "brk", "madvise", "mprotect", "rt_sigreturn", "rt_sigprocmask", "futex", "clock_gettime",
    "clock_getres", "gettimeofday", "getrandom", "getpid", "exit", "exit_group", "sigaltstack",
)
# Pure modules a script may import (taken from the fork server's memory: a child cannot open files).
ALLOWED_IMPORTS = ("collections", "datetime", "decimal", "functools", "itertools", "json", "math", "re",
                   "statistics", "string", "time")
# Builtins a script does not get: nothing outside the process to talk to. Not a security boundary
# (the process is): a script that digs ``open`` out of a frame only meets the seccomp filter.
WITHHELD_BUILTINS = frozenset({"open", "input", "breakpoint", "help", "exit", "quit", "copyright", "credits",
                               "license", "__import__", "__loader__", "__spec__", "__package__", "__doc__"})


@dataclass(frozen=True)
class Limits:
    seconds: float = 2.0
    memory_mb: int = 256
    answer_mb: int = 32  # largest answer the server reads back
    concurrent: int = 4  # scripts of one server process running at once


class SandboxUnavailable(ScriptRejected):
    """The sandbox cannot run here (no seccomp) or its fork server could not start."""


# ---------------------------------------------------------------------------- the wire format
def encode(value: Any, where: str = "", depth: int = 0) -> Any:
    """``value`` as JSON-ready data; only what a workflow can store is accepted."""
    if depth > MAX_ANSWER_DEPTH:
        raise ValueError(f"变量 {where} 的值嵌套超过 {MAX_ANSWER_DEPTH} 层，无法保存")
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"变量 {where} 的值 {value} 无法保存")
        return value
    if isinstance(value, datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "d": value.days, "s": value.seconds, "us": value.microseconds}
    if isinstance(value, list | tuple):
        return [encode(item, where, depth + 1) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError(f"变量 {where} 的字典键必须是字符串")
        body = {key: encode(item, f"{where}.{key}", depth + 1) for key, item in value.items()}
        return {TAG: "dict", "v": body} if TAG in value else body
    raise ValueError(f"变量 {where} 的值类型 {type(value).__name__} 无法保存")


def decode(value: Any, depth: int = 0) -> Any:
    if depth > MAX_ANSWER_DEPTH:
        raise ScriptRejected(f"脚本结果嵌套超过 {MAX_ANSWER_DEPTH} 层 (answer nested too deeply)")
    if isinstance(value, list):
        return [decode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        kind = value.get(TAG)
        if kind is None:
            return {key: decode(item, depth + 1) for key, item in value.items()}
        if kind == "datetime":
            return datetime.fromisoformat(value["v"])
        if kind == "date":
            return date.fromisoformat(value["v"])
        if kind == "timedelta":
            return timedelta(days=value["d"], seconds=value["s"], microseconds=value["us"])
        if kind == "dict":
            return {key: decode(item, depth + 1) for key, item in value["v"].items()}
        raise ValueError(f"unknown tag {kind!r}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not case data")


def parse_answer(answer: bytes) -> tuple[dict[str, Any], list[str]]:
    """A child's answer as (values, deleted names). Untrusted: a script that escaped into its own
    process writes whatever bytes it likes, so the number of values is bounded before decoding
    (a comma, bracket or brace per value at most) and every failure is a ScriptRejected."""
    if answer.count(b",") + answer.count(b"[") + answer.count(b"{") > MAX_ANSWER_VALUES:
        raise ScriptRejected(f"脚本结果含有超过 {MAX_ANSWER_VALUES:,} 个值 (answer too large)")
    try:
        reply = json.loads(answer, parse_constant=_no_constant)
        if reply.get("ok"):
            values = {str(k): decode(v) for k, v in dict(reply["values"]).items()}
            return values, [str(name) for name in reply["deleted"]]
        message = str(reply["error"])[:2000]
    except ScriptRejected:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError):
        raise ScriptRejected("脚本返回的结果无法识别 (malformed answer)") from None
    raise ScriptRejected(message)


def script_names(script: str) -> set[str]:
    """The names a script mentions: the only variables it is given."""
    return {node.id for node in ast.walk(ast.parse(script)) if isinstance(node, ast.Name)}


# ---------------------------------------------------------------------------- the server's side
@dataclass
class _Zygote:
    process: Any  # subprocess.Popen
    control: socket.socket
    owner: int  # the pid that started it (a forked worker starts its own)


class Sandbox:
    """Runs scripts through this process's zygote. Thread-safe; one per process."""

    def __init__(self, helpers: Mapping[str, str] | None = None, limits: Limits = Limits()):
        self.helpers = dict(helpers or {})  # name → "module:function", imported by the zygote
        self.limits = limits
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.concurrent)
        self._zygote: _Zygote | None = None

    def run(self, script: str, variables: dict[str, Any], seconds: float | None = None
            ) -> tuple[dict[str, Any], list[str]]:
        """Run ``script`` with ``variables``; return (the values it assigned, the names it deleted).
        Raises ScriptRejected with a message in words for anything that went wrong in the script."""
        seconds = seconds or self.limits.seconds
        try:
            request = json.dumps({"script": script, "seconds": seconds,
                                  "variables": {k: encode(v, k) for k, v in variables.items()}},
                                 ensure_ascii=False).encode()
        except ValueError as error:
            raise ScriptRejected(str(error)) from None
        if not self._slots.acquire(timeout=seconds):  # a flood of scripts must not hold every server thread
            raise ScriptRejected("脚本沙箱繁忙（同时运行的脚本已达上限），请稍后由督办人员重试")
        try:
            started = time.monotonic()
            answer = self._exchange(request, seconds)
            elapsed = time.monotonic() - started
        finally:
            self._slots.release()
        if not answer:
            if elapsed >= seconds * 0.9:
                raise ScriptRejected(f"脚本运行超过 {seconds:g} 秒，已被终止 (script timed out)")
            raise ScriptRejected("脚本进程异常终止（可能超出内存或栈的上限）(script process died)")
        return parse_answer(answer)

    def _exchange(self, request: bytes, seconds: float) -> bytes:
        ours, theirs = socket.socketpair()
        with ours:
            with theirs:
                self._hand_over(theirs, seconds)
            ours.settimeout(seconds + 5)
            try:
                ours.sendall(request)
                ours.shutdown(socket.SHUT_WR)
                chunks, size = [], 0
                limit = self.limits.answer_mb * 1024 * 1024
                while chunk := ours.recv(1 << 16):
                    size += len(chunk)
                    if size > limit:
                        raise ScriptRejected(f"脚本结果超过 {self.limits.answer_mb} MB")
                    chunks.append(chunk)
            except (TimeoutError, ConnectionError, BrokenPipeError):
                return b""
            return b"".join(chunks)

    def _hand_over(self, theirs: socket.socket, seconds: float) -> None:
        """Give the zygote one end of a fresh socket pair and the script's time limit; it forks a
        child that owns the socket, and kills it if it is still there GRACE seconds after the limit."""
        with self._lock:
            for attempt in range(2):
                zygote = self._running_zygote()
                try:
                    socket.send_fds(zygote.control, [f"run {seconds:.3f}".encode()], [theirs.fileno()])
                    return
                except OSError:
                    self._stop_zygote()
                    if attempt:
                        raise SandboxUnavailable("脚本沙箱进程无法启动") from None

    def _running_zygote(self) -> _Zygote:
        zygote = self._zygote
        if zygote is not None and zygote.owner == os.getpid() and zygote.process.poll() is None:
            return zygote
        self._zygote = self._start_zygote()
        return self._zygote

    def _start_zygote(self) -> _Zygote:
        import subprocess

        ours, theirs = socket.socketpair()
        root = Path(__file__).resolve().parent.parent
        command = [sys.executable, "-m", "engine.sandbox", str(theirs.fileno()),
                   str(self.limits.memory_mb), *(f"{k}={v}" for k, v in self.helpers.items())]
        process = subprocess.Popen(command, cwd=root, env={"PATH": os.defpath, "LANG": "C.UTF-8"},
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   pass_fds=(theirs.fileno(),), close_fds=True)
        theirs.close()
        ours.settimeout(30)
        try:
            greeting = ours.recv(4096)
        except (TimeoutError, OSError):
            greeting = b""
        ours.settimeout(None)
        if greeting != READY:
            process.kill()
            ours.close()
            reason = greeting.decode(errors="replace") or "fork server did not start"
            raise SandboxUnavailable(f"脚本沙箱不可用：{reason}")
        return _Zygote(process, ours, os.getpid())

    def _stop_zygote(self) -> None:
        if self._zygote is not None:
            self._zygote.control.close()
            if self._zygote.process.poll() is None:
                self._zygote.process.kill()
            self._zygote = None

    def close(self) -> None:
        with self._lock:
            self._stop_zygote()


# ---------------------------------------------------------------------------- the zygote and its children
def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _prepare_filter() -> Any:
    import errno

    import pyseccomp as seccomp  # ctypes binding of libseccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    for name in ALLOWED_SYSCALLS:
        try:
            rules.add_rule(seccomp.ALLOW, name)
        except (OSError, RuntimeError, ValueError):  # a call this architecture does not have
            continue
    return rules


def _child(conn: int, rules: Any, helpers: dict[str, Any], limit_bytes: int, devnull: int) -> None:
    """In the forked child: drop every power, then run one script and answer."""
    import resource

    try:
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, conn)
        os.closerange(conn + 1, 65536)
        request = _read_all(conn)
        seconds = float(json.loads(request)["seconds"])
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
        cpu = math.ceil(seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        rules.load()
    except BaseException:  # noqa: BLE001 - a child that cannot lock itself down never runs a script
        os._exit(3)
    answer = _run(request, helpers)
    try:
        _write_all(conn, answer)
        os.close(conn)  # the server sees the end now, not after this process is torn down
    finally:
        os._exit(0)


def _run(request: bytes, helpers: dict[str, Any]) -> bytes:
    try:
        body = json.loads(request)
        script, variables = body["script"], decode(body["variables"])
        namespace: dict[str, Any] = {"__builtins__": _builtins(), **helpers, **variables}
        exec(compile(script, "<script>", "exec"), namespace)  # noqa: S102 - inside the sandbox
        values = {}
        for name, value in namespace.items():
            if name.startswith("_") or name in helpers or callable(value) or type(value).__name__ == "module":
                continue
            values[name] = encode(value, name)
        deleted = [name for name in variables if name not in namespace]
        return json.dumps({"ok": True, "values": values, "deleted": deleted}, ensure_ascii=False).encode()
    except MemoryError:
        return json.dumps({"ok": False, "error": "脚本超出内存上限 (memory limit exceeded)"}).encode()
    except RecursionError:
        return json.dumps({"ok": False, "error": "脚本递归过深 (recursion too deep)"}).encode()
    except BaseException as error:  # noqa: BLE001 - whatever the script raised is reported in words
        return json.dumps({"ok": False, "error": _describe(error)}, ensure_ascii=False).encode()


def _describe(error: BaseException) -> str:
    line = 0
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<script>":
            line = trace.tb_lineno
        trace = trace.tb_next
    where = f"（第 {line} 行）" if line else ""
    if isinstance(error, PermissionError):
        return f"脚本试图访问文件、网络或进程，已被沙箱拒绝{where}：{error}"
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails
        text = ""
    return f"{type(error).__name__}{where}: {text}"[:2000]


def _builtins() -> dict[str, Any]:
    import builtins

    names = {name: value for name, value in vars(builtins).items() if name not in WITHHELD_BUILTINS}
    return {**names, "__import__": _import_allowed, "date": date, "datetime": datetime, "timedelta": timedelta}


def _import_allowed(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """``import`` inside a script: one of ALLOWED_IMPORTS, already loaded by the fork server."""
    if level or name not in ALLOWED_IMPORTS:
        raise ImportError(f"脚本只能 import {', '.join(ALLOWED_IMPORTS)}，不能 import {name}")
    return sys.modules[name]


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _import(spec: str) -> Any:
    import importlib

    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


def zygote(control_fd: int, memory_mb: int, helper_specs: list[str]) -> None:
    """The fork server's loop: one forked child per file descriptor received."""
    control = socket.socket(fileno=control_fd)
    try:
        helpers = {name: _import(spec) for name, spec in (s.split("=", 1) for s in helper_specs)}
        import _strptime  # noqa: F401 - datetime.strptime imports it lazily; a child cannot open files
        for module in ALLOWED_IMPORTS:
            _import(f"{module}:__name__")
        time.localtime()  # reads the time zone once, before children lose open()
        rules = _prepare_filter()
        limit = _vm_size() + memory_mb * 1024 * 1024
    except Exception as error:  # noqa: BLE001 - the server is told why, in its own words
        control.sendall(f"{type(error).__name__}: {error}".encode()[:4000])
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # children are reaped by _reap, not by the kernel
    control.sendall(READY)
    children: dict[int, float] = {}  # pid → when to kill it (monotonic)
    while True:
        _reap(children)
        wait = max(0.0, min(children.values()) - time.monotonic()) if children else None
        if not select.select([control], [], [], wait)[0]:
            continue
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 64, 4)
        except InterruptedError:
            continue
        if not message:
            return
        seconds = _seconds(message)
        for fd in fds:
            pid = os.fork()
            if pid == 0:
                _child(fd, rules, helpers, limit, devnull)
            os.close(fd)
            children[pid] = time.monotonic() + seconds + GRACE


def _seconds(message: bytes) -> float:
    """The time limit in a ``run <seconds>`` message (the server's, never a script's)."""
    try:
        return min(max(float(message.split()[1]), 0.0), 3600.0)
    except (IndexError, ValueError):
        return Limits.seconds


def _reap(children: dict[int, float]) -> None:
    """Collect the children that ended, and kill those past their deadline. A child is reaped only
    here (SIGCHLD keeps its default), so until then its pid is still this process's child and
    cannot have been given to any other process."""
    while children:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            break
        children.pop(pid, None)
    now = time.monotonic()
    for pid, deadline in children.items():
        if deadline <= now:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            children[pid] = now + 0.05  # look again shortly, when it has died


if __name__ == "__main__":
    zygote(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
