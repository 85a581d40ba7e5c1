import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Der } from '../src/asn1/reader';
import { GitsignError } from '../src/errors';

/** An OBJECT IDENTIFIER element with these content bytes. */
function oidOf(hex: string): string {
  const content = Buffer.from(hex, 'hex');
  return Der.parse(Buffer.concat([Buffer.from([0x06, content.length]), content]), 'certificate', { code: 'MALFORMED_CERTIFICATE', der: true }).oid;
}

test('OBJECT IDENTIFIERs decode to the dotted text openssl prints for them', () => {
  const cases: [string, string][] = [
    ['2a8648ce3d040303', '1.2.840.10045.4.3.3'],
    ['551d11', '2.5.29.17'],
    ['2b0601040183bf300108', '1.3.6.1.4.1.57264.1.8'],
    ['2b06010401d679020402', '1.3.6.1.4.1.11129.2.4.2'],
    ['00', '0.0'],
    ['27', '0.39'],
    ['4f', '1.39'],
    ['50', '2.0'],
    ['8837', '2.999'],
    ['2a0f7f8100', '1.2.15.127.128'],
    ['2a8fffffffffffff7f', `1.2.${Number.MAX_SAFE_INTEGER}`],
  ];
  for (const [hex, dotted] of cases) assert.equal(oidOf(hex), dotted, hex);
});

test('malformed OBJECT IDENTIFIERs are refused with the certificate code and one sentence', () => {
  const cases: [string, RegExp][] = [
    ['', /empty OBJECT IDENTIFIER/],
    ['2a86', /truncated OBJECT IDENTIFIER/],
    ['2a8001', /arc not minimally encoded/],
    ['8001', /arc not minimally encoded/],
    ['80', /truncated OBJECT IDENTIFIER/],
    ['2aa0808080808080800001', /arc too large/],
  ];
  for (const [hex, message] of cases) {
    assert.throws(
      () => oidOf(hex),
      (err: unknown) => err instanceof GitsignError && err.code === 'MALFORMED_CERTIFICATE' && message.test(err.message),
      hex,
    );
  }
});
