"""The player widget relays messages; its front end is one small, self-contained ES module."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from calculatice.catalogue import Bank
from calculatice.player.session import ERROR_INTERNAL, PlayerSession
from calculatice.player.widget import STATIC, PlayerWidget

PLAYER_JS = STATIC / "player.js"
PLAYER_CSS = STATIC / "player.css"


@pytest.fixture
def widget(bank: Bank) -> PlayerWidget:
    exercise = bank.get("cp-ajouter-10").with_overrides({"questions": 2})
    return PlayerWidget(PlayerSession([exercise], "widget"))


@pytest.fixture
def sent(widget: PlayerWidget, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What the widget sends to the front end, captured instead of sent."""
    messages: list[dict] = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: messages.append(content))
    return messages


def test_the_widget_front_end_is_the_packaged_static_files(widget):
    assert widget._esm == PLAYER_JS.read_text(encoding="utf-8")
    assert widget._css == PLAYER_CSS.read_text(encoding="utf-8")


def test_the_first_screen_is_synced_so_the_page_draws_at_once(widget):
    assert widget._initial["screen"] == "title"
    assert widget._initial["exercise"]["title"] == "Ajouter 10"
    synced = widget.get_state()
    assert synced["_initial"] == widget._initial


def test_no_synced_value_holds_an_answer(widget, sent):
    widget._on_custom_message(widget, {"id": "v-1", "message": {"type": "begin"}}, [])
    question = widget.session._questions[0]

    synced = repr(widget.get_state())

    assert question.correction not in synced
    assert "solution" not in synced


def test_a_custom_message_gets_its_reply_with_the_same_id(widget, sent):
    widget._on_custom_message(widget, {"id": "view-1", "message": {"type": "begin"}}, [])

    [response] = sent
    assert response["id"] == "view-1"
    assert response["reply"]["screen"] == "question"
    assert response["reply"]["number"] == 1


def test_a_malformed_request_gets_a_french_error(widget, sent):
    widget._on_custom_message(widget, "not a request", [])

    [response] = sent
    assert response["id"] is None
    assert response["reply"]["screen"] == "title"
    assert response["reply"]["error"].startswith("Message incompris")


def test_an_exception_in_the_session_is_logged_and_answered_in_french(
    widget, sent, monkeypatch, caplog
):
    def broken(message):
        raise RuntimeError("boom")

    monkeypatch.setattr(widget.session, "handle", broken)

    with caplog.at_level(logging.ERROR, logger="calculatice.player.widget"):
        widget._on_custom_message(widget, {"id": 7, "message": {"type": "state"}}, [])

    assert sent == [{"id": 7, "reply": {"screen": "title", "error": ERROR_INTERNAL}}]
    assert "failed on a request" in caplog.text
    assert "boom" not in repr(sent)


def test_player_js_is_valid_javascript():
    node = shutil.which("node")
    assert node is not None, "node is needed to check the player's JavaScript"

    checked = subprocess.run(
        [node, "--check", str(PLAYER_JS)], capture_output=True, text=True, timeout=60
    )

    assert checked.returncode == 0, checked.stderr


def test_player_js_inserts_no_server_text_as_html_and_loads_nothing():
    source = PLAYER_JS.read_text(encoding="utf-8")

    assert "innerHTML" not in source
    assert "outerHTML" not in source
    assert "insertAdjacentHTML" not in source
    assert not re.search(r"^\s*import\s", source, flags=re.MULTILINE)
    assert "export default" in source
    assert "export function createPlayer" in source
    assert "export function httpTransport" in source


def test_every_test_hook_in_player_js_is_documented_at_its_top():
    source = PLAYER_JS.read_text(encoding="utf-8")
    header = source.split("*/", 1)[0]
    hooks = set(re.findall(r'testid(?::|\s*=)\s*"([a-z-]+)"', source))
    hooks |= set(re.findall(r'button\(\s*(?:"[^"]*"|[a-z]+),\s*"([a-z-]+)"', source))
    hooks |= {match.rstrip("-") for match in re.findall(r"`([a-z]+-)\$\{", source)}

    undocumented = {hook for hook in hooks if hook not in header}

    assert hooks >= {"answer", "validate", "feedback", "next", "begin", "score", "timer"}
    assert undocumented == set()


def test_the_static_files_are_declared_as_package_data():
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8")

    assert '"player/static/*"' in pyproject


TRANSPORT_CHECK = """
import { widgetTransport } from %(module)s;

const listeners = [];
const sent = [];
const model = {
  on: (name, listener) => listeners.push([name, listener]),
  off: (name, listener) => listeners.splice(listeners.findIndex((l) => l[1] === listener), 1),
  send: (content) => sent.push(content),
};
const transport = widgetTransport(model, 200);
const replied = transport.send({ type: "state" });
const other = widgetTransport(model, 200);
const unanswered = other.send({ type: "begin" });
const [name, listener] = listeners[0];
// A reply for another view is ignored; the one for this request resolves it.
listener({ id: "someone-else-1", reply: { screen: "end" } });
listener({ id: sent[0].id, reply: { screen: "title" } });
const reply = await replied;
let lost = "no";
await unanswered.catch(() => { lost = "yes"; });
transport.close();
console.log(JSON.stringify({
  name, reply, lost, message: sent[0].message, distinctIds: sent[0].id !== sent[1].id,
  listenersLeft: listeners.length,
}));
"""


def test_the_widget_transport_matches_replies_and_gives_up_on_silence(tmp_path):
    node = shutil.which("node")
    assert node is not None, "node is needed to check the player's JavaScript"
    script = tmp_path / "check.mjs"
    script.write_text(
        TRANSPORT_CHECK % {"module": json.dumps(PLAYER_JS.resolve().as_uri())}, encoding="utf-8"
    )

    checked = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {
        "name": "msg:custom",
        "reply": {"screen": "title"},
        "lost": "yes",
        "message": {"type": "state"},
        "distinctIds": True,
        "listenersLeft": 1,
    }


HTTP_TRANSPORT_CHECK = """
import http from "node:http";
import { httpTransport } from %(module)s;

// A real server on loopback: two proxy errors, then a dropped connection, then the reply.
const bodies = [];
let calls = 0;
const server = http.createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => { body += chunk; });
  request.on("end", () => {
    calls += 1;
    bodies.push(JSON.parse(body));
    if (request.url === "/down") { response.writeHead(502); response.end(); return; }
    if (request.url === "/refused") { response.writeHead(400); response.end(); return; }
    if (calls <= 2) { response.writeHead(calls === 1 ? 502 : 503); response.end(); return; }
    if (calls === 3) { request.socket.destroy(); return; }
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(JSON.stringify({ screen: "feedback", number: 4 }));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const waits = [];
const message = { type: "answer", response: "12", key: "k-4" };
const reply = await httpTransport(`${base}/api`, 2000, 10000).send(message, (w) => waits.push(w));
const afterReply = calls;

async function failure(path, patienceMs) {
  const started = Date.now();
  try {
    await httpTransport(`${base}${path}`, 2000, patienceMs).send({ type: "state" });
    return { failed: false };
  } catch (error) {
    return { failed: true, error: error.message, seconds: (Date.now() - started) / 1000 };
  }
}
const before = calls;
const refused = await failure("/refused", 10000);
const refusedCalls = calls - before;
const down = await failure("/down", 1600);
server.close();
console.log(JSON.stringify({
  reply, afterReply, waits, sameMessage: bodies.slice(0, 4).every(
    (body) => JSON.stringify(body) === JSON.stringify(message)),
  refused, refusedCalls, down,
}));
"""


def test_the_http_transport_rides_out_a_server_restart_and_no_more(tmp_path):
    node = shutil.which("node")
    assert node is not None, "node is needed to check the player's JavaScript"
    script = tmp_path / "check.mjs"
    script.write_text(
        HTTP_TRANSPORT_CHECK % {"module": json.dumps(PLAYER_JS.resolve().as_uri())},
        encoding="utf-8",
    )

    checked = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)
    # 502, 503 and a dropped connection are waited through, the same message sent again.
    assert result["reply"] == {"screen": "feedback", "number": 4}
    assert result["afterReply"] == 4
    assert result["sameMessage"] is True
    assert result["waits"] == [True, False]
    # A refusal is not a restart: no second try.
    assert result["refused"]["failed"] is True and result["refused"]["error"] == "HTTP 400"
    assert result["refusedCalls"] == 1
    # A server that stays down is given up on once the patience is spent.
    assert result["down"]["failed"] is True and result["down"]["error"] == "HTTP 502"
    assert 1.0 <= result["down"]["seconds"] <= 3.0
