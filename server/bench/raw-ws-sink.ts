import { WebSocketServer } from 'ws';

// The other end of the raw WebSocket reference: counts bytes and says when the expected total arrived.
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * 1024 * 1024 });
wss.on('listening', () => process.send?.({ port: (wss.address() as { port: number }).port }));
wss.on('connection', (socket) => {
  let received = 0;
  let expected = Infinity;
  socket.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) expected = Number(data.toString());
    else received += data.length;
    if (received >= expected) socket.send('done');
  });
});
