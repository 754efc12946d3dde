// Client on Node.js `ws` for the interop tests.
//   node echo_client.js URL CASES_JSON [CA_FILE]
// Sends each case (see ../cases.py) and checks the echo, pings with PING_HEX
// and checks the pong, then closes with 4001 "bye ✓".  Prints one JSON line:
// {"messages": [{"ok": bool, "why": str}], "pong": bool, "close": {"code", "reason"}}.
"use strict";
const fs = require("fs");
const WebSocket = require("ws");

const [url, casesJson, caFile] = process.argv.slice(2);
const cases = JSON.parse(casesJson);
const PING = Buffer.from("ping \x00\xff", "latin1");

function payload(c) {
  if (c.type === "binary") {
    const b = Buffer.alloc(c.size);
    for (let i = 0; i < c.size; i++) b[i] = (i * 7 + 3) & 255;
    return b;
  }
  return "text" in c ? c.text : c.char.repeat(c.count);
}

const options = { maxPayload: 4 << 20, perMessageDeflate: false };
if (caFile) options.ca = fs.readFileSync(caFile);
const ws = new WebSocket(url, options);
const result = { messages: [], pong: false, close: null };
let waiting = null;  // resolver of the next message or pong

ws.on("message", (data, isBinary) => { const w = waiting; waiting = null; w && w({ data, isBinary }); });
ws.on("pong", (data) => { const w = waiting; waiting = null; w && w({ pong: data }); });
ws.on("error", (err) => { console.log(JSON.stringify({ error: String(err) })); process.exit(1); });
ws.on("close", (code, reason) => {
  result.close = { code, reason: reason.toString() };
  console.log(JSON.stringify(result));
  process.exit(0);
});

const next = () => new Promise((resolve) => { waiting = resolve; });

ws.on("open", async () => {
  for (const c of cases) {
    const sent = payload(c);
    const got = next();
    ws.send(sent, { binary: c.type === "binary" });
    const { data, isBinary } = await got;
    let why = "";
    if (isBinary !== (c.type === "binary")) why = "type: binary=" + isBinary;
    else if (isBinary ? !data.equals(sent) : data.toString() !== sent) why = "payload differs (" + data.length + " bytes)";
    result.messages.push({ ok: why === "", why });
  }
  const pong = next();
  ws.ping(PING);
  const p = await pong;
  result.pong = Boolean(p.pong && p.pong.equals(PING));
  ws.close(4001, "bye ✓");
});
