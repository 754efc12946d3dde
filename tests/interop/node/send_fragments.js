// Sends "é!" as one text message in two fragments split inside the "é" and
// prints the echo as JSON: {"binary": bool, "text": str}.
//   node send_fragments.js URL
"use strict";
const WebSocket = require("ws");

const ws = new WebSocket(process.argv[2], { perMessageDeflate: false });
ws.on("error", (err) => { console.log(JSON.stringify({ error: String(err) })); process.exit(1); });
ws.on("open", () => {
  ws.send(Buffer.from([0xc3]), { binary: false, fin: false });
  ws.send(Buffer.from([0xa9, 0x21]), { binary: false, fin: true });
});
ws.on("message", (data, isBinary) => {
  console.log(JSON.stringify({ binary: isBinary, text: data.toString() }));
  ws.close(1000);
});
ws.on("close", () => process.exit(0));
