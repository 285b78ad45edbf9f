/**
 * A minimal submission client: implicit TLS (the region's `submissions` port, self-signed certificate,
 * loopback), EHLO, AUTH PLAIN once, then one transaction per message on the same session. `send` resolves
 * at the 250 that answers the end of DATA, with that instant (performance.now()).
 */
import { connect, type TLSSocket } from 'node:tls';

export class SubmissionClient {
  #buffer = '';
  #waiting: Array<(line: string) => void> = [];
  #lines: string[] = [];
  #closed: Error | null = null;

  private constructor(private readonly socket: TLSSocket) {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (d: string) => {
      this.#buffer += d;
      for (let i = this.#buffer.indexOf('\r\n'); i >= 0; i = this.#buffer.indexOf('\r\n')) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 2);
        const next = this.#waiting.shift();
        if (next) next(line);
        else this.#lines.push(line);
      }
    });
    const fail = (err: Error) => {
      this.#closed = err;
      for (const w of this.#waiting.splice(0)) w(`000 ${err.message}`);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static async open(host: string, port: number, user: string, password: string): Promise<SubmissionClient> {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({ host, port, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new SubmissionClient(socket);
    await c.#expect(220);
    await c.command('EHLO bench.invalid', 250);
    const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
    await c.command(`AUTH PLAIN ${plain}`, 235);
    return c;
  }

  #line(): Promise<string> {
    const ready = this.#lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#closed) return Promise.resolve(`000 ${this.#closed.message}`);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Reads one (possibly multi-line) reply; throws unless its code is `code`. */
  async #expect(code: number): Promise<string> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.#line();
      lines.push(line);
      if (line[3] !== '-') break;
    }
    const last = lines.at(-1) ?? '';
    if (Number(last.slice(0, 3)) !== code)
      throw new Error(`SMTP: expected ${code}, got: ${lines.join(' | ')}`);
    return last;
  }

  async command(line: string, code: number): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.#expect(code);
  }

  /** One message; resolves with performance.now() at the 250 after DATA. */
  async send(from: string, to: string, message: string): Promise<number> {
    await this.command(`MAIL FROM:<${from}>`, 250);
    await this.command(`RCPT TO:<${to}>`, 250);
    await this.command('DATA', 354);
    const stuffed = message.replace(/\r\n\./g, '\r\n..');
    this.socket.write(`${stuffed}\r\n.\r\n`);
    await this.#expect(250);
    return performance.now();
  }

  async close(): Promise<void> {
    await this.command('QUIT', 221).catch(() => undefined);
    this.socket.destroy();
  }
}
