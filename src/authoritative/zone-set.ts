import { RRType, type Name } from '../wire/index.js';
import { ancestorKeys, type Zone } from '../zone/zone.js';

/**
 * The zones served here, immutable. A reload builds a new ZoneSet and swaps it in; requests in
 * flight keep the one they started with.
 */
export class ZoneSet {
  readonly zones: readonly Zone[];
  /** class -> origin key -> zone */
  private readonly byClass = new Map<number, Map<string, Zone>>();

  constructor(zones: Zone[]) {
    this.zones = [...zones];
    for (const z of zones) {
      let m = this.byClass.get(z.class);
      if (!m) this.byClass.set(z.class, (m = new Map()));
      if (m.has(z.origin.key)) throw new Error(`zone ${z.origin} is listed twice`);
      m.set(z.origin.key, z);
    }
  }

  get size(): number {
    return this.zones.length;
  }

  /** The zone holding `qname` in `qclass`; the longest origin wins when zones nest. */
  find(qname: Name, qclass: number): Zone | undefined {
    const m = this.byClass.get(qclass);
    if (!m) return undefined;
    for (const key of ancestorKeys(qname)) {
      const z = m.get(key);
      if (z) return z;
    }
    return undefined;
  }

  /**
   * The zone that answers a question. As `find`, except that DS at a zone apex belongs to the
   * parent side of the cut (RFC 4035 §3.1.4.1): when the parent is served here too, it answers.
   */
  findForQuery(qname: Name, qtype: number, qclass: number): Zone | undefined {
    const z = this.find(qname, qclass);
    if (z && qtype === RRType.DS && !qname.isRoot && z.origin.labelCount === qname.labelCount) {
      return this.find(qname.parent(), qclass) ?? z;
    }
    return z;
  }

  /** The zone with exactly this origin. */
  get(origin: Name, qclass: number): Zone | undefined {
    return this.byClass.get(qclass)?.get(origin.key);
  }
}
