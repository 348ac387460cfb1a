import { createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Algorithm } from './types.js';

/**
 * Public-key operations for the DNSSEC algorithms, on node:crypto. Keys arrive in DNSKEY wire
 * form (RFC 3110 for RSA, RFC 6605 for ECDSA, RFC 8080 for EdDSA) and are turned into JWKs.
 */

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

interface AlgorithmInfo {
  readonly hash: string | null;
  readonly kind: 'rsa' | 'ec' | 'ed';
  readonly curve?: string;
  readonly size?: number;
}

const algorithms: Record<number, AlgorithmInfo> = {
  [Algorithm.RSASHA1]: { hash: 'sha1', kind: 'rsa' },
  [Algorithm.RSASHA1_NSEC3_SHA1]: { hash: 'sha1', kind: 'rsa' },
  [Algorithm.RSASHA256]: { hash: 'sha256', kind: 'rsa' },
  [Algorithm.RSASHA512]: { hash: 'sha512', kind: 'rsa' },
  [Algorithm.ECDSAP256SHA256]: { hash: 'sha256', kind: 'ec', curve: 'P-256', size: 32 },
  [Algorithm.ECDSAP384SHA384]: { hash: 'sha384', kind: 'ec', curve: 'P-384', size: 48 },
  [Algorithm.ED25519]: { hash: null, kind: 'ed', curve: 'Ed25519' },
  [Algorithm.ED448]: { hash: null, kind: 'ed', curve: 'Ed448' },
};

export function supportedAlgorithm(alg: number): boolean {
  return alg in algorithms;
}

/** A KeyObject for a DNSKEY public key, or undefined when the key is malformed or unsupported. */
export function importPublicKey(alg: number, key: Uint8Array): KeyObject | undefined {
  const info = algorithms[alg];
  if (!info) return undefined;
  try {
    if (info.kind === 'rsa') {
      if (key.length < 3) return undefined;
      let explen = key[0]!;
      let off = 1;
      if (explen === 0) {
        explen = (key[1]! << 8) | key[2]!;
        off = 3;
      }
      const e = key.subarray(off, off + explen);
      const n = key.subarray(off + explen);
      if (e.length !== explen || n.length === 0) return undefined;
      return createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' });
    }
    if (info.kind === 'ec') {
      if (key.length !== info.size! * 2) return undefined;
      return createPublicKey({
        key: { kty: 'EC', crv: info.curve!, x: b64u(key.subarray(0, info.size)), y: b64u(key.subarray(info.size)) },
        format: 'jwk',
      });
    }
    return createPublicKey({ key: { kty: 'OKP', crv: info.curve!, x: b64u(key) }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Verifies a DNSSEC signature over `data`. Never throws: malformed input is a failed check. */
export function verifySignature(alg: number, publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const info = algorithms[alg];
  if (!info) return false;
  try {
    if (info.kind === 'ec') {
      if (signature.length !== info.size! * 2) return false;
      return cryptoVerify(info.hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return cryptoVerify(info.hash, data, publicKey, signature);
  } catch {
    return false;
  }
}

/** A signing key pair with its DNSKEY public-key field. */
export interface SigningKey {
  readonly algorithm: number;
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

export function signData(key: SigningKey, data: Uint8Array): Uint8Array {
  const info = algorithms[key.algorithm]!;
  if (info.kind === 'ec') return new Uint8Array(cryptoSign(info.hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }));
  return new Uint8Array(cryptoSign(info.hash, data, key.privateKey));
}

/** DNSKEY public-key field from a private key. */
export function publicKeyField(alg: number, privateKey: KeyObject): Uint8Array {
  const info = algorithms[alg];
  if (!info) throw new RangeError(`unsupported algorithm ${alg}`);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const d = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');
  if (info.kind === 'rsa') {
    const e = d(jwk.e);
    const n = d(jwk.n);
    const head = e.length < 256 ? Buffer.from([e.length]) : Buffer.from([0, e.length >> 8, e.length & 0xff]);
    return new Uint8Array(Buffer.concat([head, e, n]));
  }
  if (info.kind === 'ec') return new Uint8Array(Buffer.concat([pad(d(jwk.x), info.size!), pad(d(jwk.y), info.size!)]));
  return new Uint8Array(d(jwk.x));
}

function pad(b: Buffer, size: number): Buffer {
  return b.length >= size ? b : Buffer.concat([Buffer.alloc(size - b.length), b]);
}

export function generateSigningKey(alg: number, rsaBits = 2048): SigningKey {
  const info = algorithms[alg];
  if (!info) throw new RangeError(`unsupported algorithm ${alg}`);
  let generated: KeyObject;
  if (info.kind === 'rsa') generated = generateKeyPairSync('rsa', { modulusLength: rsaBits, publicExponent: 65537 }).privateKey;
  else if (info.kind === 'ec') generated = generateKeyPairSync('ec', { namedCurve: info.curve === 'P-256' ? 'prime256v1' : 'secp384r1' }).privateKey;
  else generated = info.curve === 'Ed25519' ? generateKeyPairSync('ed25519').privateKey : generateKeyPairSync('ed448').privateKey;
  // Node 20 can deadlock when a garbage collection inside a JWK export of a freshly generated
  // key (which allocates while holding the key's lock) destroys the finished generation job,
  // whose destructor takes the same lock (seen as a hung process: ExportJWKRsaKey under
  // ~KeyGenJob). A copy imported from DER shares nothing with the job.
  const privateKey = createPrivateKey({ key: generated.export({ type: 'pkcs8', format: 'der' }), format: 'der', type: 'pkcs8' });
  return { algorithm: alg, privateKey, publicKey: publicKeyField(alg, privateKey) };
}

/** Imports a raw private scalar/seed (ECDSA `d`, EdDSA seed) as BIND's `PrivateKey:` field holds. */
export function importRawPrivateKey(alg: number, raw: Uint8Array): SigningKey {
  const info = algorithms[alg];
  if (!info || info.kind === 'rsa') throw new RangeError('raw private keys are for ECDSA and EdDSA');
  if (info.kind === 'ec') {
    // A JWK needs the public point too; an ECDH object derives it from the private scalar.
    const ecdh = createECDH(info.curve === 'P-256' ? 'prime256v1' : 'secp384r1');
    ecdh.setPrivateKey(Buffer.from(raw));
    const pub = ecdh.getPublicKey(); // 0x04 | x | y
    const x = pub.subarray(1, 1 + info.size!);
    const y = pub.subarray(1 + info.size!);
    const privateKey = createPrivateKey({ key: { kty: 'EC', crv: info.curve!, x: b64u(x), y: b64u(y), d: b64u(raw) }, format: 'jwk' });
    return { algorithm: alg, privateKey, publicKey: new Uint8Array(Buffer.concat([x, y])) };
  }
  // Ed25519/Ed448: the public key comes from the seed via a PKCS#8 wrapper (RFC 8410).
  const prefix = info.curve === 'Ed25519' ? '302e020100300506032b657004220420' : '3047020100300506032b6571043b0439';
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from(prefix, 'hex'), Buffer.from(raw)]), format: 'der', type: 'pkcs8' });
  return { algorithm: alg, privateKey, publicKey: publicKeyField(alg, privateKey) };
}

