// The chat page: one WebSocket to /ws?name=..., messages shown as text
// (never as HTML), reconnecting with a growing delay when the
// connection drops.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const join = document.getElementById("join");
  const say = document.getElementById("say");
  const text = document.getElementById("text");
  const nameInput = document.getElementById("name");
  let ws = null, name = "", delay = 500;

  function line(cls, from, body) {
    const li = document.createElement("li");
    if (cls) li.className = cls;
    if (from) {
      const b = document.createElement("span");
      b.className = "from";
      b.textContent = from;
      li.appendChild(b);
    }
    li.appendChild(document.createTextNode(body));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/ws?name=${encodeURIComponent(name)}`);
    status.textContent = "connecting…";
    status.className = "status";
    ws.onopen = () => { delay = 500; };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m.system) line("system", "", m.system);
      else line(m.from === name ? "mine" : "", m.from, m.text);
      status.textContent = `connected as ${name} · ${m.online} online`;
      status.className = "status online";
    };
    ws.onclose = (e) => {
      status.textContent = `disconnected (${e.code}${e.reason ? ": " + e.reason : ""}), reconnecting…`;
      status.className = "status";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }

  join.addEventListener("submit", (e) => {
    e.preventDefault();
    name = nameInput.value.trim() || "guest";
    join.hidden = true;
    say.hidden = false;
    text.focus();
    connect();
  });

  say.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!ws || ws.readyState !== WebSocket.OPEN || !text.value) return;
    ws.send(text.value);
    text.value = "";
  });
  status.textContent = "choose a name to join";
})();
