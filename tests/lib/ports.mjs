// A free TCP port on loopback, for a second listener a test or benchmark
// gives mcpd (--metrics-listen) or a server of its own (Prometheus, nginx).
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
