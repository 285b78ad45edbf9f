/** The part of mailsplit 5.4.6 the gateway uses (the package ships no types). */
declare module 'mailsplit' {
  import { Transform } from 'node:stream';

  interface MailsplitHeaders {
    get(key: string): string[];
    getFirst(key: string): string;
  }

  interface MimeNode {
    type: 'node';
    root: boolean;
    parentNode: MimeNode | false;
    headers: MailsplitHeaders;
    multipart: string | false;
    messageNode?: boolean;
    contentType: string | false;
    disposition: string | false;
    filename: string | false;
    encoding: string | false;
    _boundary: Buffer | false;
    getHeaders(): Buffer;
    getDecoder(): Transform;
  }

  interface DataChunk {
    type: 'data' | 'body';
    node: MimeNode;
    value?: Buffer;
  }

  export type SplitterChunk = MimeNode | DataChunk;

  export class Splitter extends Transform {
    constructor(options?: { maxHeadSize?: number; maxChildNodes?: number; ignoreEmbedded?: boolean });
    [Symbol.asyncIterator](): AsyncIterableIterator<SplitterChunk>;
  }

  export class Joiner extends Transform {}
}
