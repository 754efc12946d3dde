// Client on Node.js `ws` with permessage-deflate on, for the compression interop tests.
//   node deflate_echo_client.js URL CASES_JSON [CA_FILE]
// Sends each case (see ../cases.py) compressed (threshold 0), checks the echo,
// then closes with 1000.  Prints one JSON line:
// {"extensions": the response's Sec-WebSocket-Extensions, "messages": [{"ok": bool, "why": str}], "close": {"code", "reason"}}.
"use strict";
const fs = require("fs");
const WebSocket = require("ws");

const [url, casesJson, caFile] = process.argv.slice(2);
const cases = JSON.parse(casesJson);

function payload(c) {
  if (c.type === "binary") {
    const b = Buffer.alloc(c.size);
    for (let i = 0; i < c.size; i++) b[i] = (i * 7 + 3) & 255;
    return b;
  }
  return "text" in c ? c.text : c.char.repeat(c.count);
}

const options = { maxPayload: 4 << 20, perMessageDeflate: { threshold: 0 } };
if (caFile) options.ca = fs.readFileSync(caFile);
const ws = new WebSocket(url, options);
const result = { extensions: null, messages: [], close: null };
let waiting = null;

ws.on("upgrade", (res) => { result.extensions = res.headers["sec-websocket-extensions"] || null; });

ws.on("message", (data, isBinary) => { const w = waiting; waiting = null; w && w({ data, isBinary }); });
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
  ws.close(1000);
});
