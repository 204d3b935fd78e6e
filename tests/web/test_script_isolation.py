"""Designer-written scripts cannot reach the server: each known escape from a Python "restricted"
environment, put in a script task of a process that is started through the API as a designer's
process would be. Whatever the script reaches inside its sandbox, it cannot create a file, read
one, open a socket or learn a secret: the case ends in an incident that says so in words, and the
server goes on answering other users while a runaway script is being stopped."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from services.bootstrap import Settings, bootstrap
from tests.bpmn_factory import linear_process, script_task

# Each escape ends with ``os`` (the sandbox module's own) in hand and tries to leave a mark.
LEAVE_A_MARK = """
fd = os.open(MARKER, os.O_CREAT | os.O_WRONLY)
os.write(fd, b'escaped')
"""
ESCAPES = {
    "generator frame": """
def walk():
    yield it.gi_frame.f_back
it = walk()
frame = next(it).f_back
os = frame.f_globals['os']
""",
    "coroutine frame": """
async def walk():
    return co.cr_frame.f_back.f_back
co = walk()
try:
    co.send(None)
except StopIteration as stop:
    frame = stop.value
os = frame.f_globals['os']
""",
    "traceback frame": """
try:
    1 / 0
except ZeroDivisionError as error:
    frame = error.__traceback__.tb_frame.f_back
os = frame.f_globals['os']
""",
    "subclasses": """
warnings = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]
os = warnings()._module.__builtins__['__import__']('os')
""",
    "type() trick": """
meta = ().__class__.__class__
Probe = meta('Probe', (object,), {})
loader = [c for c in Probe.__mro__[-1].__subclasses__() if c.__name__ == 'BuiltinImporter'][0]
os = loader.load_module('posix')
""",
}


def start(runtime, client, headers, pid: str, script: str):
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process(pid, script_task(script)), f"{pid}.bpmn")], "test")
        uow.commit()
    return client.post("/api/instances", json={"process_key": pid, "business_key": f"BK-{pid}"}, headers=headers)


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_an_escape_reaches_nothing_outside_the_sandbox(runtime, client, bearer, tmp_path, escape):
    marker = tmp_path / "escaped"
    script = f"MARKER = {str(marker)!r}\n" + ESCAPES[escape] + LEAVE_A_MARK
    answer = start(runtime, client, bearer("reviewer"), f"escape_{sorted(ESCAPES).index(escape)}", script)
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "error"
    assert "已被沙箱拒绝" in answer.json["incidents"][0]["message"]
    assert not marker.exists()


@pytest.mark.parametrize(("reach", "words"), [
    ("os.listdir('/')", "已被沙箱拒绝"),
    ("open('/etc/hostname').read()", "已被沙箱拒绝"),
    ("open(MARKER, 'w').write('escaped')", "已被沙箱拒绝"),
    ("__import__('socket').socket().connect(('127.0.0.1', 5432))", "已被沙箱拒绝"),
    ("os.kill(os.getppid(), 9)", "已被沙箱拒绝"),
    ("os.execv('/bin/touch', ['touch', MARKER])", "已被沙箱拒绝"),
    ("os.system(f'touch {MARKER}') and None", None),  # the shell cannot even be started
])
def test_files_network_and_processes_are_out_of_reach(runtime, client, bearer, tmp_path, reach, words):
    marker = tmp_path / "escaped"
    script = f"MARKER = {str(marker)!r}\n" + ESCAPES["traceback frame"]
    script += f"open = frame.f_builtins['open']\n__import__ = frame.f_builtins['__import__']\nresult = {reach}\n"
    script += "del frame, os, open, __import__\n"
    answer = start(runtime, client, bearer("reviewer"), f"reach_{abs(hash(reach)) % 10**6}", script)
    if words is None:
        assert answer.json["status"] == "waiting"
    else:
        assert answer.json["status"] == "error"
        assert words in answer.json["incidents"][0]["message"]
    assert not marker.exists()


def test_the_server_s_secrets_are_not_in_the_sandbox(runtime, client, bearer):
    """The script collects every string it can find in its process — environment, globals of
    every loaded module — and returns them as case data: no secret of the server's is among them."""
    script = ESCAPES["traceback frame"] + """
sys = frame.f_globals['sys']
found = [f'{k}={v}' for k, v in os.environ.items()]
for module in list(sys.modules.values()):
    for value in list(getattr(module, '__dict__', {}).values()):
        if isinstance(value, str):
            found.append(value)
found = sorted(set(found))
del frame, os, sys, module, value
"""
    answer = start(runtime, client, bearer("reviewer"), "secrets", script)
    assert answer.json["status"] == "waiting"
    case = client.get(f"/api/tasks/{answer.json['open_tasks'][0]['id']}", headers=bearer("reviewer"))
    assert case.status_code == 200
    with runtime.unit_of_work() as uow:
        found = runtime.engine.task_data(uow.session, answer.json["open_tasks"][0]["id"])["found"]
    assert len(found) > 200  # the script did search
    everything = "\n".join(found)
    assert runtime.settings.secret_key not in everything
    assert runtime.db.url.render_as_string(hide_password=False) not in everything
    assert runtime.settings.database_url not in everything
    assert not [entry for entry in found if entry.startswith("BANJIAN_")]


@pytest.mark.parametrize(("script", "words"), [
    ("x = 7 ** 90000000", "脚本运行超过 0.5 秒"),
    ("x = 'a' * 10 ** 10", "超出内存上限"),
    ("chunks = []\nwhile True:\n    chunks.append(' ' * 10 ** 7)", "超出内存上限"),
    ("def down(n):\n    return down(n + 1)\nx = down(0)", "递归过深"),
    ("while True:\n    pass", "脚本运行超过 0.5 秒"),
    ("import os", "脚本只能 import"),
])
def test_runaway_scripts_are_stopped_and_become_incidents(runtime, client, bearer, monkeypatch, script, words):
    monkeypatch.setattr("engine.definitions.check_script", lambda source: None)  # as if it slipped past deploy
    if "秒" not in words:  # the limit at stake is not time: give a busy machine time to reach it
        monkeypatch.setattr(runtime.engine.environment, "time_limit", 10.0)
    answer = start(runtime, client, bearer("reviewer"), f"runaway_{abs(hash(script)) % 10**6}", script)
    assert answer.status_code == 201
    assert answer.json["status"] == "error"
    assert words in answer.json["incidents"][0]["message"]


def test_a_script_still_does_its_work(runtime):
    script = ("import math\ntotal = sum(p['years'] for p in persons)\nlongest = max(persons, key=lambda p: p['years'])"
              "['name']\ndue = add_working_days(date(2026, 9, 30), 1)\nroot = math.isqrt(total)\n"
              "del persons")
    persons = [{"name": "甲", "years": 9}, {"name": "乙", "years": 16}]
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("script_ok", script_task(script)), "script_ok.bpmn")],
                                "test")
        instance = runtime.engine.start(uow, "script_ok", business_key="BK-ok", region_code="110000",
                                        actor=_reviewer(), data={"persons": persons})
        uow.commit()
        data = runtime.engine.instance_data(uow.session, instance)
    assert (data["total"], data["longest"], data["due"], data["root"]) == (25, "乙", date(2026, 10, 8), 5)
    assert "persons" not in data


def _reviewer():
    from tests.conftest import actor

    return actor("reviewer")


def test_others_are_answered_while_a_runaway_script_is_stopped(runtime, tmp_path):
    """A live server with a 3-second script limit: while one reviewer's start runs ``while True``,
    another user's request is answered; the runaway ends as an incident well within 10 s."""
    from web import create_app

    slow = bootstrap(Settings(database_url=runtime.settings.database_url, script_time_limit=3.0))
    server = make_server("127.0.0.1", 0, create_app(slow), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def call(path: str, body: dict | None = None, token: str = "") -> dict:
        request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    try:
        tokens = {user: call("/api/auth/token", {"username": user, "password": "secret-pass"})["token"]
                  for user in ("reviewer", "supervisor")}
        with slow.unit_of_work() as uow:
            slow.deployer.deploy(uow.session, [(linear_process("runaway_live", script_task("while True:\n    pass")),
                                                "runaway_live.bpmn")], "test")
            uow.commit()
        outcome: dict = {}
        runaway = threading.Thread(target=lambda: outcome.update(call(
            "/api/instances", {"process_key": "runaway_live", "business_key": "BK-live"}, tokens["reviewer"])))
        runaway.start()
        _wait_for_a_script_to_run(slow)
        answered = call("/api/tasks?scope=all", token=tokens["supervisor"])
        assert runaway.is_alive(), "the other user had to wait for the runaway script"
        assert "items" in answered
        runaway.join(timeout=10)
        assert not runaway.is_alive()
        assert outcome["status"] == "error" and "脚本运行超过 3 秒" in outcome["incidents"][0]["message"]
    finally:
        server.shutdown()
        slow.engine.environment.sandbox.close()
        slow.db.dispose()


def _wait_for_a_script_to_run(runtime) -> None:
    """Until the sandbox's fork server has a child (the script is running)."""
    for _ in range(200):
        zygote = runtime.engine.environment.sandbox._zygote
        if zygote is not None:
            children = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == zygote.process.pid]
            if children:
                return
        time.sleep(0.05)
    raise AssertionError("no script started")


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_deploy_refuses_imports_and_disallowed_expressions_in_words(runtime):
    from engine.definitions import DefinitionInvalid

    flow_condition = ('<bpmn:exclusiveGateway id="mid" default="f2" />')
    bad_guard = '<spiffworkflow:property name="guard" value="x.__class__" />'
    files = [(linear_process("deploy_import", script_task("import os\nos.getcwd()")), "deploy_import.bpmn"),
             (linear_process("deploy_guard", flow_condition, extra_props=bad_guard), "deploy_guard.bpmn")]
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as invalid:
        runtime.deployer.deploy(uow.session, files, "test")
    messages = {(p.file, p.element_id): p.message for p in invalid.value.problems}
    assert "不能 import os" in messages[("deploy_import.bpmn", "mid")]
    assert "不能访问 int 的属性 __class__" not in messages[("deploy_guard.bpmn", "task")]  # refused before running
    assert "属性" in messages[("deploy_guard.bpmn", "task")] or "不允许" in messages[("deploy_guard.bpmn", "task")]


STUCK = ESCAPES["traceback frame"] + """
signal, threading = frame.f_globals['signal'], frame.f_globals['threading']
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGXCPU})
lock = threading.Lock()
lock.acquire()
lock.acquire()
"""


def test_a_script_that_blocks_its_alarm_and_sleeps_is_killed(runtime, client, bearer):
    """Blocking SIGALRM and waiting on a lock uses no CPU, so neither the alarm nor the CPU limit
    ends the child: the fork server kills it at its deadline, and no process is left behind."""
    answer = start(runtime, client, bearer("reviewer"), "stuck_child", STUCK)
    assert answer.json["status"] == "error"
    assert "脚本运行超过 0.5 秒" in answer.json["incidents"][0]["message"]
    zygote = runtime.engine.environment.sandbox._zygote
    alive = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == zygote.process.pid
             and _state(p) not in ("Z", "X", "")]
    assert alive == []


def _state(proc: Path) -> str:
    try:
        return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


# A script that escaped into its own process can write any answer to its socket (then exit before
# the sandbox writes the real one): the server reads it as untrusted data.
FORGE = ESCAPES["traceback frame"] + """
for fd in range(3, 256):
    try:
        os.write(fd, ANSWER)
        break
    except OSError:
        pass
os._exit(0)
"""


@pytest.mark.parametrize(("answer", "words"), [
    ("""b'{"ok": true, "values": {"x": NaN}, "deleted": []}'""", "无法识别"),
    ("""b'{"ok": true, "values": {"x": [' + b'[],' * 600000 + b'[]]}, "deleted": []}'""", "超过 1,000,000 个值"),
    ("""b'{"ok": true, "values": {"x": ' + b'[' * 200 + b']' * 200 + b'}, "deleted": []}'""", "嵌套超过 64 层"),
])
def test_a_forged_answer_is_refused(runtime, client, bearer, answer, words):
    script = f"ANSWER = {answer}\n" + FORGE
    pid = f"forged_{abs(hash(answer)) % 10**6}"
    reply = start(runtime, client, bearer("reviewer"), pid, script)
    assert reply.json["status"] == "error", reply.json
    assert words in reply.json["incidents"][0]["message"]


def test_a_flood_of_scripts_waits_a_bounded_time_for_a_sandbox_slot():
    """With every slot taken by a runaway script, the next script does not hold its server thread
    indefinitely: after its own time limit it gives up with a message (an incident a supervisor
    may retry)."""
    from engine.expressions import ScriptRejected
    from engine.sandbox import Limits, Sandbox

    sandbox = Sandbox({}, Limits(seconds=2.0, concurrent=1))
    outcome: list[str] = []
    runaway = threading.Thread(target=lambda: _run_catching(sandbox, "while True:\n    pass", outcome))
    runaway.start()
    try:
        time.sleep(0.3)  # the runaway has its slot
        with pytest.raises(ScriptRejected, match="沙箱繁忙"):
            sandbox.run("x = 1", {}, seconds=0.2)
    finally:
        runaway.join(timeout=10)
        sandbox.close()
    assert outcome and "超过 2 秒" in outcome[0]


def _run_catching(sandbox, script: str, outcome: list[str]) -> None:
    from engine.expressions import ScriptRejected

    try:
        sandbox.run(script, {})
    except ScriptRejected as error:
        outcome.append(str(error))
