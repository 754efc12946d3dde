// Echo server on Node.js `ws`, for the interop tests.
//   node echo_server.js [--deflate] PORT [CERT KEY]
// Echoes each message with its type; the text "close-me" makes it close with
// 4002 "peer bye ✓", "fragment-me" makes it send "é!" in two fragments split
// inside the "é", "ping-me" makes it ping and say "pong received" when the pong
// is back, "extensions?" is answered with the Sec-WebSocket-Extensions header
// sent ("" without one).  `ws` answers a client's close frame with the same code
// and reason.  --deflate: permessage-deflate on, every message compressed
// (threshold 0); without it, off.
"use strict";
const fs = require("fs");
const https = require("https");
const { WebSocketServer } = require("ws");

const args = process.argv.slice(2);
const deflate = args[0] === "--deflate";
const [port, cert, key] = deflate ? args.slice(1) : args;
const options = { maxPayload: 4 << 20, perMessageDeflate: deflate ? { threshold: 0 } : false };
let wss;
if (cert) {
  const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
  wss = new WebSocketServer({ server, ...options });
  server.listen(Number(port), "127.0.0.1", () => console.log("listening"));
} else {
  wss = new WebSocketServer({ host: "127.0.0.1", port: Number(port), ...options },
                            () => console.log("listening"));
}
wss.on("headers", (headers, req) => {
  const line = headers.find((h) => h.toLowerCase().startsWith("sec-websocket-extensions:"));
  req.extensionsAnswer = line ? line.slice(line.indexOf(":") + 1).trim() : "";
});
wss.on("connection", (ws, req) => {
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === "close-me") {
      ws.close(4002, "peer bye ✓");
    } else if (text === "fragment-me") {
      // "é!" as a text message whose first fragment ends inside the "é"
      ws.send(Buffer.from([0xc3]), { binary: false, fin: false });
      ws.send(Buffer.from([0xa9, 0x21]), { binary: false, fin: true });
    } else if (text === "ping-me") {
      ws.once("pong", (payload) => { if (payload.toString() === "are you there?") ws.send("pong received"); });
      ws.ping("are you there?");
    } else if (text === "extensions?") {
      ws.send(req.extensionsAnswer);
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
