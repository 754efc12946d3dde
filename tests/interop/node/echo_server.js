// Echo server on Node.js `ws`, for the interop tests.
//   node echo_server.js PORT [CERT KEY]
// Echoes each message with its type; the text "close-me" makes it close with
// 4002 "peer bye ✓", "fragment-me" makes it send "é!" in two fragments split
// inside the "é", "ping-me" makes it ping and say "pong received" when the pong
// is back.  `ws` answers a client's close frame with the same code and reason.
"use strict";
const fs = require("fs");
const https = require("https");
const { WebSocketServer } = require("ws");

const [port, cert, key] = process.argv.slice(2);
const options = { maxPayload: 4 << 20, perMessageDeflate: false };
let wss;
if (cert) {
  const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
  wss = new WebSocketServer({ server, ...options });
  server.listen(Number(port), "127.0.0.1", () => console.log("listening"));
} else {
  wss = new WebSocketServer({ host: "127.0.0.1", port: Number(port), ...options },
                            () => console.log("listening"));
}
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.toString() === "close-me") {
      ws.close(4002, "peer bye ✓");
    } else if (!isBinary && data.toString() === "fragment-me") {
      // "é!" as a text message whose first fragment ends inside the "é"
      ws.send(Buffer.from([0xc3]), { binary: false, fin: false });
      ws.send(Buffer.from([0xa9, 0x21]), { binary: false, fin: true });
    } else if (!isBinary && data.toString() === "ping-me") {
      ws.once("pong", (payload) => { if (payload.toString() === "are you there?") ws.send("pong received"); });
      ws.ping("are you there?");
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
