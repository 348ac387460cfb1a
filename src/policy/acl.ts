import { addressBytes, parsePrefix, prefixContains, type Prefix } from './address.js';

/**
 * Access control lists with BIND's semantics: entries are tried in order, the first that matches
 * decides; a negated entry (`!x`) that matches denies. No match denies.
 *
 * Entry syntax (strings): `any`, `none`, `localhost`/`loopback` (127.0.0.0/8 and ::1), an address,
 * a CIDR prefix, `key NAME` (a TSIG key that signed the request), the name of another list, and
 * `!ENTRY` for any of these.
 */
export interface AclSubject {
  readonly address: string;
  /** Name of the TSIG key that validly signed the request, if any. */
  readonly key?: string;
}

type Matcher =
  | { kind: 'any' }
  | { kind: 'none' }
  | { kind: 'prefix'; prefix: Prefix }
  | { kind: 'key'; name: string }
  | { kind: 'list'; acl: Acl };

interface Entry {
  readonly negated: boolean;
  readonly matcher: Matcher;
}

export class AclError extends Error {
  constructor(
    message: string,
    /** Which list and entry index, for the config loader to point at. */
    readonly list: string,
    readonly index: number,
  ) {
    super(message);
  }
}

export class Acl {
  constructor(
    readonly name: string,
    private readonly entries: readonly Entry[],
  ) {}

  /** 'allow' or 'deny' when an entry matched, undefined when none did. */
  decide(s: AclSubject, bytes = addressBytes(s.address)): 'allow' | 'deny' | undefined {
    for (const e of this.entries) {
      const m = matches(e.matcher, s, bytes);
      if (m === undefined) continue;
      // A nested list that denies counts as a match that denies (BIND: "!" inside an
      // element list propagates), and negation flips the outcome.
      const allow = m === 'allow' ? !e.negated : e.negated ? undefined : false;
      if (allow === undefined) continue;
      return allow ? 'allow' : 'deny';
    }
    return undefined;
  }

  allows(s: AclSubject): boolean {
    return this.decide(s) === 'allow';
  }

  static readonly any = new Acl('any', [{ negated: false, matcher: { kind: 'any' } }]);
  static readonly none = new Acl('none', [{ negated: false, matcher: { kind: 'none' } }]);
}

function matches(m: Matcher, s: AclSubject, bytes: Uint8Array | undefined): 'allow' | 'deny' | undefined {
  switch (m.kind) {
    case 'any':
      return 'allow';
    case 'none':
      return undefined;
    case 'prefix':
      return bytes && prefixContains(m.prefix, bytes) ? 'allow' : undefined;
    case 'key':
      return s.key !== undefined && s.key.toLowerCase().replace(/\.$/, '') === m.name ? 'allow' : undefined;
    case 'list':
      return m.acl.decide(s, bytes);
  }
}

const builtins: Record<string, string[]> = {
  localhost: ['127.0.0.0/8', '::1'],
  loopback: ['127.0.0.0/8', '::1'],
  localnets: ['127.0.0.0/8', '::1'],
};

/**
 * Compiles the named lists of the config (`acl:`) so that lists may refer to each other in any
 * order; reference cycles and unknown names are errors.
 */
export class AclRegistry {
  private readonly compiled = new Map<string, Acl>();

  constructor(private readonly defs: Readonly<Record<string, readonly string[]>> = {}) {
    for (const name of Object.keys(defs)) this.get(name);
  }

  get(name: string, stack: string[] = []): Acl {
    const done = this.compiled.get(name);
    if (done) return done;
    if (stack.includes(name)) throw new AclError(`acl "${name}" refers to itself (${[...stack, name].join(' -> ')})`, name, 0);
    const def = this.defs[name] ?? builtins[name];
    if (!def) throw new AclError(`unknown acl "${name}"`, name, 0);
    const acl = new Acl(name, def.map((e, i) => this.entry(e, name, i, [...stack, name])));
    this.compiled.set(name, acl);
    return acl;
  }

  /** An anonymous list given inline (e.g. `allow-transfer: [xfr-key, 10.0.0.0/8]`). */
  inline(label: string, entries: readonly string[]): Acl {
    return new Acl(label, entries.map((e, i) => this.entry(e, label, i, [])));
  }

  private entry(text: string, list: string, index: number, stack: string[]): Entry {
    let t = text.trim();
    let negated = false;
    if (t.startsWith('!')) {
      negated = true;
      t = t.slice(1).trim();
    }
    if (t === 'any') return { negated, matcher: { kind: 'any' } };
    if (t === 'none') return { negated, matcher: { kind: 'none' } };
    const key = /^key\s+(\S+)$/.exec(t);
    if (key) return { negated, matcher: { kind: 'key', name: key[1]!.toLowerCase().replace(/\.$/, '') } };
    const prefix = parsePrefix(t);
    if (prefix) return { negated, matcher: { kind: 'prefix', prefix } };
    if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(t)) {
      if (this.defs[t] === undefined && builtins[t] === undefined) {
        throw new AclError(`"${text}" is neither an address, a prefix, "key NAME", nor a defined acl`, list, index);
      }
      return { negated, matcher: { kind: 'list', acl: this.get(t, stack) } };
    }
    throw new AclError(`"${text}" is not a valid acl entry`, list, index);
  }
}
