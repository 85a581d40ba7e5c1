import { writeSync } from 'node:fs';

/** Synchronous writes keep status lines, messages and the signature in order, and flush before exit. */
export function writeOut(text: string): void {
  writeSync(1, text);
}
export function writeErr(text: string): void {
  writeSync(2, text);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
