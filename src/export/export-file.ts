import { createHash } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { Encrypter } from 'age-encryption';
import type { ExportStore } from '../store/index.js';
import { WATERMARK_SYSTEM } from './watermark.js';

/**
 * The export file: a FHIR R4 Bundle of type 'collection' (JSON), written as a stream and
 * encrypted on the fly to the recipient's age key (age v1, X25519, STREAM of 64 KiB chunks),
 * so the plaintext never exists whole and never touches a disk. The ciphertext goes to the
 * store in chunks of `chunkBytes`. The recipient opens it with `age -d -i key.txt`.
 */
export interface BundleHeader {
  readonly jobId: string;
  readonly watermark: string;
  readonly timestamp: string;
}

/** The Bundle as text pieces of about 64 KiB: header, entries in the order given, footer. */
export async function* bundleText(
  header: BundleHeader, resources: AsyncIterable<Resource & { id: string }>, baseUrl: string, counted: (n: number) => void,
): AsyncGenerator<string> {
  const head = {
    resourceType: 'Bundle',
    id: header.jobId,
    meta: {
      lastUpdated: header.timestamp,
      tag: [{ system: WATERMARK_SYSTEM, code: header.watermark }],
      // R: restricted (v3 Confidentiality): it holds many people's records.
      security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
    },
    identifier: { system: WATERMARK_SYSTEM, value: header.watermark },
    type: 'collection',
    timestamp: header.timestamp,
  };
  let buffer = `${JSON.stringify(head).slice(0, -1)},"entry":[`;
  let n = 0;
  for await (const resource of resources) {
    buffer += `${n === 0 ? '' : ','}${JSON.stringify({ fullUrl: `${baseUrl}/fhir/${resource.resourceType}/${resource.id}`, resource })}`;
    n += 1;
    if (buffer.length >= 64 * 1024) {
      yield buffer;
      buffer = '';
    }
  }
  counted(n);
  yield `${buffer}]}`;
}

/**
 * Encrypts the text to `recipient` and stores the ciphertext as chunks 0, 1, … of `jobId`.
 * Returns its size and SHA-256. The randomness is the age library's own (Web Crypto): the file
 * key and the ephemeral X25519 share are secrets of the file, not ids, so the injected Random
 * does not reach them.
 */
export async function encryptToStore(
  store: ExportStore, jobId: string, recipient: string, text: AsyncIterable<string>, chunkBytes: number,
): Promise<{ bytes: number; sha256: string }> {
  const encoder = new TextEncoder();
  const source = text[Symbol.asyncIterator]();
  const plaintext = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await source.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await source.return?.(undefined);
    },
  });
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  const reader = (await encrypter.encrypt(plaintext)).getReader();
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let bytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    await store.putChunk(jobId, seq++, Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const piece = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      hash.update(piece);
      bytes += piece.length;
      pending.push(Buffer.from(piece)); // a copy: the stream may reuse its buffer
      pendingBytes += piece.length;
      if (pendingBytes >= chunkBytes) await flush();
    }
    await flush();
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  return { bytes, sha256: hash.digest('hex') };
}

