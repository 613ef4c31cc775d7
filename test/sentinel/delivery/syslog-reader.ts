/**
 * A strict reader of RFC 5424 messages and RFC 6587 octet-counted frames, for the tests: what a
 * collector would make of what labkluis sends. Written from the RFC's ABNF, independently of
 * the formatter under test.
 */
export interface SdElementRead {
  readonly id: string;
  readonly params: [string, string][];
}

export interface SyslogRead {
  readonly pri: number;
  readonly facility: number;
  readonly severity: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly structuredData: SdElementRead[];
  /** Without the BOM; null when there is no MSG part. */
  readonly msg: string | null;
  readonly bom: boolean;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function parseSyslog(message: Buffer): SyslogRead {
  const text = message.toString('latin1'); // header and SD names are US-ASCII; values decoded below
  const m = /^<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!m) throw new Error('not an RFC 5424 header');
  const [all, pri, version, timestamp, hostname, appName, procId, msgId] = m as unknown as string[];
  let rest = message.subarray(Buffer.byteLength(all!, 'latin1'));
  let structuredData: SdElementRead[] = [];
  if (rest[0] === 0x2d /* - */) {
    rest = rest.subarray(1);
  } else {
    const { elements, used } = parseSdBytes(rest);
    structuredData = elements;
    rest = rest.subarray(used);
  }
  let msg: string | null = null;
  let bom = false;
  if (rest.length > 0) {
    if (rest[0] !== 0x20) throw new Error('no SP before MSG');
    rest = rest.subarray(1);
    bom = rest.subarray(0, 3).equals(BOM);
    msg = (bom ? rest.subarray(3) : rest).toString('utf8');
  }
  const p = Number(pri);
  return {
    pri: p, facility: p >> 3, severity: p & 7, version: Number(version), timestamp: timestamp!, hostname: hostname!, appName: appName!,
    procId: procId!, msgId: msgId!, structuredData, msg, bom,
  };
}

/** STRUCTURED-DATA as text (one or more SD-ELEMENTs, nothing after). */
export function parseSd(text: string): SdElementRead[] {
  const buf = Buffer.from(text, 'utf8');
  const { elements, used } = parseSdBytes(buf);
  if (used !== buf.length) throw new Error('trailing text after STRUCTURED-DATA');
  return elements;
}

function parseSdBytes(buf: Buffer): { elements: SdElementRead[]; used: number } {
  const elements: SdElementRead[] = [];
  let i = 0;
  while (buf[i] === 0x5b /* [ */) {
    i++;
    const id = readName(buf, i);
    i += id.length;
    const params: [string, string][] = [];
    while (buf[i] === 0x20) {
      i++;
      const name = readName(buf, i);
      i += name.length;
      if (buf[i] !== 0x3d || buf[i + 1] !== 0x22) throw new Error('expected ="');
      i += 2;
      const value: number[] = [];
      while (buf[i] !== 0x22) {
        if (i >= buf.length) throw new Error('unterminated PARAM-VALUE');
        // §6.3.3: only \" \\ \] are escapes; a backslash before anything else stays.
        if (buf[i] === 0x5c && [0x22, 0x5c, 0x5d].includes(buf[i + 1]!)) i++;
        else if (buf[i] === 0x5d) throw new Error('unescaped ] in PARAM-VALUE');
        value.push(buf[i]!);
        i++;
      }
      i++;
      params.push([name, Buffer.from(value).toString('utf8')]);
    }
    if (buf[i] !== 0x5d) throw new Error('expected ]');
    i++;
    elements.push({ id, params });
  }
  if (elements.length === 0) throw new Error('no SD-ELEMENT');
  return { elements, used: i };
}

function readName(buf: Buffer, from: number): string {
  let i = from;
  while (i < buf.length && buf[i]! >= 0x21 && buf[i]! <= 0x7e && ![0x3d, 0x20, 0x5d, 0x22].includes(buf[i]!)) i++;
  if (i === from || i - from > 32) throw new Error('bad SD-NAME');
  return buf.subarray(from, i).toString('ascii');
}

/** Splits a TCP stream of octet-counted frames (RFC 6587 §3.4.1) into messages; throws on a bad frame. */
export function splitOctetCounted(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < stream.length) {
    const sp = stream.indexOf(0x20, i);
    const len = stream.subarray(i, sp).toString('ascii');
    if (sp < 0 || !/^[1-9]\d*$/.test(len)) throw new Error('bad MSG-LEN');
    const end = sp + 1 + Number(len);
    if (end > stream.length) throw new Error('frame longer than the stream');
    out.push(stream.subarray(sp + 1, end));
    i = end;
  }
  return out;
}
