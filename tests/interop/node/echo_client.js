// Client on Node.js `ws` for the interop tests.
//   node echo_client.js [--deflate] URL CASES_JSON [CA_FILE]
// Sends each case (see ../cases.py) and checks the echo.  Plain: pings with
// PING_HEX and checks the pong, then closes with 4001 "bye ✓"; prints one JSON line
// {"messages": [{"ok": bool, "why": str}], "pong": bool, "close": {"code", "reason"}}.
// --deflate: permessage-deflate on, every message compressed (threshold 0), no
// ping, closes with 1000; prints
// {"extensions": the response's Sec-WebSocket-Extensions, "messages": [...], "close": {...}}.
"use strict";
const fs = require("fs");
const WebSocket = require("ws");

const args = process.argv.slice(2);
const deflate = args[0] === "--deflate";
const [url, casesJson, caFile] = deflate ? args.slice(1) : args;
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

const options = { maxPayload: 4 << 20, perMessageDeflate: deflate ? { threshold: 0 } : false };
if (caFile) options.ca = fs.readFileSync(caFile);
const ws = new WebSocket(url, options);
const result = deflate ? { extensions: null, messages: [], close: null } : { messages: [], pong: false, close: null };
let waiting = null;  // resolver of the next message or pong

ws.on("upgrade", (res) => { if (deflate) result.extensions = res.headers["sec-websocket-extensions"] || null; });
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
  if (deflate) {
    ws.close(1000);
    return;
  }
  const pong = next();
  ws.ping(PING);
  const p = await pong;
  result.pong = Boolean(p.pong && p.pong.equals(PING));
  ws.close(4001, "bye ✓");
});
