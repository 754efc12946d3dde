// Echo server on Node.js `ws` with permessage-deflate on, for the compression interop tests.
//   node deflate_echo_server.js PORT [CERT KEY]
// Echoes each message with its type, compressing every one (threshold 0); the
// text "extensions?" is answered with the Sec-WebSocket-Extensions header sent.
"use strict";
const fs = require("fs");
const https = require("https");
const { WebSocketServer } = require("ws");

const [port, cert, key] = process.argv.slice(2);
const options = { maxPayload: 4 << 20, perMessageDeflate: { threshold: 0 } };
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
    if (!isBinary && data.toString() === "extensions?") ws.send(req.extensionsAnswer);
    else ws.send(data, { binary: isBinary });
  });
});
