// Builds the optional native addon (native/udp-batch: recvmmsg/sendmmsg for UDP) with node-gyp.
// Run by `npm install`/`npm ci` (the "install" script). Never fails the install: without the
// addon the server uses node:dgram, which is slower but complete.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.platform !== 'linux') {
  console.log('portcullis: batched UDP is Linux-only; using node:dgram');
  process.exit(0);
}
if (process.env.PORTCULLIS_SKIP_NATIVE === '1') {
  console.log('portcullis: PORTCULLIS_SKIP_NATIVE=1; native addon not built');
  process.exit(0);
}

// npm's own node-gyp (npm_execpath points into npm's tree during lifecycle scripts), else PATH.
const candidates = [];
if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
const gyp = candidates.find((p) => existsSync(p));

// Build against the headers of the running Node when they are installed beside it, so no
// download is needed.
const prefix = join(dirname(process.execPath), '..');
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit', shell: false });
if (r.status === 0) console.log('portcullis: native batched UDP built (build/Release/udp_batch.node)');
else console.log('portcullis: native addon not built; UDP uses node:dgram (slower). See docs/performance.md.');
