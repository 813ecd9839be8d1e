// Signs fixtures with sigstore-js against @sigstore/mock's Fulcio, CT log, Rekor and TSA, wired in-process
// (nock intercepts the HTTP calls), and writes the bundles, the artifacts and the matching trusted root to
// tests/EdgeOps.Trust.Tests/testdata/sigstore-js. It also signs the example fleet's upgrade artifact (a small
// stand-in for the real rootfs image, pinned by digest in examples/fleet-repo/upgrades/robot-os-2026-11.yaml)
// and writes that bundle and the trusted root into the example fleet. Run: npm ci && node generate.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import {
  fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler,
} from '@sigstore/mock';
import { sign } from 'sigstore';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../../tests/EdgeOps.Trust.Tests/testdata/sigstore-js');
const example = path.resolve(here, '../../examples/fleet-repo');
const EXAMPLE_PLAN = 'upgrades/robot-os-2026-11.yaml';
const EXAMPLE_BUNDLE = 'upgrades/robot-os-2026-11.sigstore.json';
const EXAMPLE_ROOT = 'trust/sigstore-trusted-root.json';

// The example's artifact: deterministic bytes standing in for robot-os 2026.11.2's RAUC bundle.
const exampleArtifact = () => Buffer.from(Array.from({ length: 4096 }, (_, i) => `robot-os 2026.11.2 rootfs block ${i}\n`).join(''));
const FULCIO = 'https://fulcio.mock.test';
const REKOR = 'https://rekor.mock.test';
const TSA = 'https://tsa.mock.test';
const IDENTITY = 'release-bot@pomona-robotics.example';
const ISSUER = 'https://oauth2.sigstore.dev/auth';

const keyPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

function wire(base, handler) {
  nock(base).persist().post(handler.path).reply(async (_uri, body) => {
    const request = typeof body === 'string' ? body : JSON.stringify(body);
    const { statusCode, response, contentType } = await handler.fn(request);
    return [statusCode, response, { 'Content-Type': contentType || 'text/plain' }];
  });
}

// An unsigned JWT: the mock Fulcio only decodes it; the client needs email_verified to take the e-mail.
function token() {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return [b64({ alg: 'none', typ: 'JWT' }), b64({
    iss: ISSUER, sub: IDENTITY, email: IDENTITY, email_verified: true, aud: 'sigstore', iat: now, exp: now + 600,
  }), ''].join('.');
}

const spki = (key) => key.export({ format: 'der', type: 'spki' });
const sha256 = (data) => crypto.createHash('sha256').update(data).digest();
const window = (start) => ({ start: new Date(start.getTime() - 60_000).toISOString() });

async function main() {
  const start = new Date();
  const fulcioKeys = keyPair();
  const ctKeys = keyPair();
  const rekorKeys = keyPair();
  const tsaKeys = keyPair();
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(fulcioKeys, ctlog);
  const tlog = await initializeTLog(REKOR, rekorKeys);
  const tsa = await initializeTSA(tsaKeys);
  wire(FULCIO, fulcioHandler(ca));
  wire(REKOR, rekorHandler(tlog));
  wire(TSA, tsaHandler(tsa));

  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: REKOR,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: tlog.publicKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: window(start) },
      logId: { keyId: sha256(tlog.publicKey).toString('base64') },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: FULCIO,
      certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer).toString('base64') }] },
      validFor: window(start),
    }],
    ctlogs: [{
      baseUrl: 'https://ctfe.mock.test',
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: ctlog.publicKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: window(start) },
      logId: { keyId: Buffer.from(ctlog.logID.buffer).toString('base64') },
    }],
    timestampAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore-tsa' },
      uri: TSA,
      certChain: {
        certificates: [
          { rawBytes: Buffer.from(tsa.intCertificate.buffer).toString('base64') },
          { rawBytes: Buffer.from(tsa.rootCertificate.buffer).toString('base64') },
        ],
      },
      validFor: window(start),
    }],
  };

  fs.mkdirSync(out, { recursive: true });
  const write = (name, data) => fs.writeFileSync(path.join(out, name), data);
  write('trusted_root.json', JSON.stringify(trustedRoot, null, 2) + '\n');

  // Message signatures only: sigstore-js writes them as v0.2 bundles with a certificate chain, and the mock
  // Rekor does not log DSSE envelopes canonically.
  const cases = [
    { name: 'message-tlog', options: {} },
    { name: 'message-tlog-tsa', options: { tsaServerURL: TSA } },
  ];
  for (const { name, options } of cases) {
    const artifact = Buffer.from(`robot-os 2026.11.2 rootfs for ${name}\n`);
    const bundle = await sign(artifact, {
      fulcioURL: FULCIO, rekorURL: REKOR, identityToken: token(), tlogUpload: true, ...options,
    });
    write(`${name}.txt`, artifact);
    write(`${name}.sigstore.json`, JSON.stringify(bundle, null, 2) + '\n');
  }

  const artifact = exampleArtifact();
  const bundle = await sign(artifact, { fulcioURL: FULCIO, rekorURL: REKOR, tsaServerURL: TSA, identityToken: token(), tlogUpload: true });
  fs.writeFileSync(path.join(example, EXAMPLE_BUNDLE), JSON.stringify(bundle, null, 2) + '\n');
  fs.writeFileSync(path.join(example, EXAMPLE_ROOT), JSON.stringify(trustedRoot, null, 2) + '\n');
  const plan = path.join(example, EXAMPLE_PLAN);
  fs.writeFileSync(plan, fs.readFileSync(plan, 'utf8')
    .replace(/digest: sha256:[0-9a-f]{64}/, `digest: sha256:${sha256(artifact).toString('hex')}`)
    .replace(/size: \d+/, `size: ${artifact.length}`));

  write('identity', `${IDENTITY}\n`);
  write('issuer', `${ISSUER}\n`);
  console.log(`wrote ${cases.length} bundles and their trusted root to ${out}`);
}

await main();
