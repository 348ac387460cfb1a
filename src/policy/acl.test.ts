import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclRegistry, AclError } from './acl.js';
import { isLoopback, isPrivatePrefix, parsePrefix } from './address.js';

test('acl: first match wins, negation denies, nested lists', () => {
  const reg = new AclRegistry({
    internal: ['127.0.0.0/8', '::1', '10.0.0.0/8'],
    'not-guests': ['!10.9.0.0/16', 'internal'],
    transfer: ['key xfr-key', '192.0.2.53'],
  });
  const internal = reg.get('internal');
  assert.ok(internal.allows({ address: '127.0.0.2' }));
  assert.ok(internal.allows({ address: '::ffff:127.0.0.3' }), 'mapped IPv4 from dual-stack sockets');
  assert.ok(internal.allows({ address: '::1' }));
  assert.ok(!internal.allows({ address: '192.0.2.1' }));
  const ng = reg.get('not-guests');
  assert.ok(ng.allows({ address: '10.1.2.3' }));
  assert.ok(!ng.allows({ address: '10.9.2.3' }), 'negated entry before the list denies');
  const tr = reg.get('transfer');
  assert.ok(tr.allows({ address: '203.0.113.9', key: 'XFR-KEY.' }), 'key names compare case-insensitively, trailing dot ignored');
  assert.ok(!tr.allows({ address: '203.0.113.9' }));
  assert.ok(tr.allows({ address: '192.0.2.53' }));
  assert.ok(!tr.allows({ address: '192.0.2.54' }));
});

test('acl: any, none, builtins, inline lists, errors', () => {
  const reg = new AclRegistry({ a: ['b'], b: ['a'] , ok: ['any'] }.ok ? { ok: ['any'], nope: ['none'], lo: ['localhost'] } : {});
  assert.ok(reg.get('ok').allows({ address: '198.51.100.1' }));
  assert.ok(!reg.get('nope').allows({ address: '127.0.0.1' }));
  assert.ok(reg.get('lo').allows({ address: '127.0.0.1' }));
  assert.ok(reg.inline('zone allow-transfer', ['!127.0.0.2', '127.0.0.0/8']).allows({ address: '127.0.0.3' }));
  assert.ok(!reg.inline('zone allow-transfer', ['!127.0.0.2', '127.0.0.0/8']).allows({ address: '127.0.0.2' }));
  assert.throws(() => new AclRegistry({ a: ['b'], b: ['a'] }), /refers to itself/);
  assert.throws(() => new AclRegistry({ a: ['10.0.0.0/33'] }), AclError);
  assert.throws(() => new AclRegistry({ a: ['no-such-list'] }), /neither an address/);
});

test('address helpers', () => {
  assert.ok(isLoopback('127.1.2.3'));
  assert.ok(isLoopback('::1'));
  assert.ok(!isLoopback('10.0.0.1'));
  assert.ok(isPrivatePrefix(parsePrefix('10.1.0.0/16')!));
  assert.ok(!isPrivatePrefix(parsePrefix('0.0.0.0/0')!));
  assert.ok(!isPrivatePrefix(parsePrefix('8.8.8.0/24')!));
  assert.ok(isPrivatePrefix(parsePrefix('fd00::/8')!));
});
