/**
 * A minimal raw-socket IMAP client for the benchmark: sends tagged commands, reads responses until the
 * tagged status line, skips literals ({n}) without copying them, and counts octets (all received, and
 * literal octets separately). Untagged lines (literal contents removed) are kept only on request.
 */
import { connect, type Socket } from 'node:net';

export interface Reply {
  status: string;
  /** Untagged responses (literals replaced by their `{n}` marker), if collected. */
  untagged: string[];
  /** Number of untagged responses. */
  untaggedCount: number;
  /** Octets inside literals. */
  literalBytes: number;
  /** Octets received for this command. */
  bytes: number;
}

type Waiter = {
  tag?: string;
  continuation?: boolean;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
};

export class ImapClient {
  #sock: Socket;
  #rest: Buffer | undefined;
  #literal = 0;
  #cur = '';
  #nextTag = 1;
  #waiter: Waiter | undefined;
  #collect = false;
  #reply: Reply = ImapClient.#empty();
  #closed: Error | undefined;

  static #empty(): Reply {
    return { status: '', untagged: [], untaggedCount: 0, literalBytes: 0, bytes: 0 };
  }

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (err: Error) => {
      this.#closed = err;
      this.#waiter?.reject(err);
      this.#waiter = undefined;
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects and waits for the greeting. */
  static async connect(port: number): Promise<ImapClient> {
    const sock = connect({ host: '127.0.0.1', port, noDelay: true });
    const client = new ImapClient(sock);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    const greeting = await client.#wait({ continuation: false, tag: '*' });
    if (!/^\* (OK|PREAUTH)/.test(greeting.status)) throw new Error(`greeting: ${greeting.status}`);
    return client;
  }

  #wait(w: Omit<Waiter, 'resolve' | 'reject'>): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#reply = ImapClient.#empty();
    return new Promise((resolve, reject) => {
      this.#waiter = { ...w, resolve, reject };
    });
  }

  /** Sends one command and resolves with the reply once its tagged status line arrives. */
  command(text: string, opts: { collect?: boolean } = {}): Promise<Reply> {
    const tag = `b${this.#nextTag++}`;
    this.#collect = opts.collect ?? false;
    const p = this.#wait({ tag });
    this.#sock.write(`${tag} ${text}\r\n`);
    return p;
  }

  /** Like command(), but throws unless the status is OK. */
  async must(text: string, opts: { collect?: boolean } = {}): Promise<Reply> {
    const r = await this.command(text, opts);
    if (!/^\S+ OK/.test(r.status)) throw new Error(`${text.split(' ')[0]}: ${r.status}`);
    return r;
  }

  /** IDLE: resolves on the server's continuation request ("+ idling"). */
  async idle(): Promise<void> {
    const tag = `b${this.#nextTag++}`;
    const p = this.#wait({ tag, continuation: true });
    this.#sock.write(`${tag} IDLE\r\n`);
    const r = await p;
    if (!r.status.startsWith('+')) throw new Error(`IDLE: ${r.status}`);
  }

  destroy(): void {
    this.#sock.destroy();
  }

  #onData(input: Buffer): void {
    this.#reply.bytes += input.length;
    let chunk = input;
    if (this.#rest) {
      chunk = Buffer.concat([this.#rest, input]);
      this.#rest = undefined;
    }
    let off = 0;
    while (off < chunk.length) {
      if (this.#literal > 0) {
        const n = Math.min(this.#literal, chunk.length - off);
        this.#literal -= n;
        off += n;
        continue;
      }
      const nl = chunk.indexOf(10, off);
      if (nl < 0) {
        this.#rest = chunk.subarray(off);
        break;
      }
      const end = nl > off && chunk[nl - 1] === 13 ? nl - 1 : nl;
      const line = chunk.toString('latin1', off, end);
      off = nl + 1;
      this.#onLine(line);
    }
  }

  #onLine(line: string): void {
    const m = /\{(\d+)\}$/.exec(line);
    if (m) {
      this.#literal = Number(m[1]);
      this.#reply.literalBytes += this.#literal;
      this.#cur += line;
      return;
    }
    const full = this.#cur + line;
    this.#cur = '';
    const w = this.#waiter;
    const done =
      w !== undefined &&
      ((w.tag !== undefined && full.startsWith(`${w.tag} `)) || (w.continuation && full.startsWith('+')));
    if (done && w) {
      this.#reply.status = full;
      this.#waiter = undefined;
      w.resolve(this.#reply);
      return;
    }
    this.#reply.untaggedCount++;
    if (this.#collect) this.#reply.untagged.push(full);
  }
}
