/**
 * A raw TCP (or TLS) line client for protocol tests: send exact bytes, read replies line by line. Used
 * for malformed input, pipelining and abuse tests where a real client library would refuse to misbehave.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

export class LineClient {
  #buf = '';
  #waiters: Array<() => void> = [];
  closed = false;

  private constructor(public socket: Socket | TLSSocket) {
    this.#attach(socket);
  }

  #attach(socket: Socket | TLSSocket): void {
    // latin1 maps every byte to one char: byte-exact, and safe across chunk boundaries.
    socket.on('data', (d: Buffer) => {
      this.#buf += d.toString('latin1');
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  static connect(
    port: number,
    host = '127.0.0.1',
    opts: { tls?: boolean; localAddress?: string } = {},
  ): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const local = opts.localAddress ? { localAddress: opts.localAddress } : {};
      const socket = opts.tls
        ? tlsConnect({ port, host, rejectUnauthorized: false, ...local })
        : netConnect({ port, host, ...local });
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Upgrades the connection to TLS in place (after the server said yes to STARTTLS/STLS). */
  startTls(servername = 'localhost'): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    return new Promise((resolve, reject) => {
      const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername });
      secure.once('secureConnect', () => {
        this.socket = secure;
        this.#attach(secure);
        resolve();
      });
      secure.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Everything received so far and not yet read. */
  get pending(): string {
    return this.#buf;
  }

  /** Reads one CRLF- (or LF-) terminated line; rejects on timeout or close. */
  async line(timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.#buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl).replace(/\r$/, '');
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.#buf)}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a line; pending: ${JSON.stringify(this.#buf)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Reads a complete SMTP reply (multi-line `250-...` continued until `250 ...`). */
  async smtpReply(timeoutMs = 10_000): Promise<{ code: number; lines: string[]; text: string }> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      lines.push(l);
      if (/^\d{3} /.test(l) || /^\d{3}$/.test(l)) break;
      if (!/^\d{3}-/.test(l)) throw new Error(`not an SMTP reply line: ${l}`);
    }
    const last = lines[lines.length - 1] ?? '';
    return { code: Number(last.slice(0, 3)), lines, text: lines.join('\n') };
  }

  /** Sends a command line and reads the SMTP reply. */
  async smtp(command: string, timeoutMs?: number) {
    this.write(`${command}\r\n`);
    return this.smtpReply(timeoutMs);
  }

  /** Resolves when the server closes the connection (or rejects after the timeout). */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > until) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
