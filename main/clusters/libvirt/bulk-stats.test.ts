/**
 * The bulk-stats decoder on hand-built records: the test driver only reports the `state` group, so vcpu and balloon
 * decoding (what a QEMU host sends) is exercised here with records laid out exactly as libvirt lays them out.
 */
import { describe, expect, it } from 'vitest';
import { decodeStatsRecords, fetchDomainStats, settleFrees, statsMask } from './bulk-stats';
import { callAsync, loadNative, type Ptr } from './native';

type Param = readonly [field: string, type: number, value: number | bigint];

/** A virTypedParameter array in a JS buffer (96 bytes each). */
function params(list: readonly Param[]): Buffer {
  const buf = Buffer.alloc(96 * list.length);
  list.forEach(([field, type, value], i) => {
    const off = i * 96;
    buf.write(field, off, 'latin1');
    buf.writeInt32LE(type, off + 80);
    if (type === 1) buf.writeInt32LE(Number(value), off + 88);
    else if (type === 2) buf.writeUInt32LE(Number(value), off + 88);
    else if (type === 3) buf.writeBigInt64LE(BigInt(value), off + 88);
    else if (type === 4) buf.writeBigUInt64LE(BigInt(value), off + 88);
    else if (type === 5) buf.writeDoubleLE(Number(value), off + 88);
  });
  return buf;
}

describe('decodeStatsRecords', () => {
  it('reads state, reason, vcpu.current and balloon.current by name, whatever their order, and skips look-alikes', async () => {
    const native = await loadNative();
    const { koffi, fn } = native;
    const conn = await callAsync<Ptr>(fn.virConnectOpen, 'test:///default');
    const dom = await callAsync<Ptr>(fn.virDomainLookupByName, conn, 'test'); // the default host's domain
    const keep: Buffer[] = [];
    const record = (p: Buffer | null, n: number): Buffer => {
      const r = Buffer.alloc(24);
      r.writeBigUInt64LE(dom, 0);
      r.writeBigUInt64LE(p ? koffi.address(p) : 0n, 8);
      r.writeInt32LE(n, 16);
      keep.push(r);
      return r;
    };
    const p1 = params([
      ['state.reasonable', 1, 99], // look-alike prefixes must not match
      ['balloon.current', 4, 2097152n],
      ['vcpu.current', 2, 6],
      ['state.reason', 1, 2],
      ['vcpu.maximum', 2, 8],
      ['state.state', 1, 3],
      ['balloon.maximum', 4, 4194304n],
    ]);
    const p2 = params([['state.state', 1, 5]]);
    keep.push(p1, p2);
    const recs = [record(p1, 7), record(p2, 1), record(null, 0)];
    const list = Buffer.alloc(8 * recs.length);
    recs.forEach((r, i) => list.writeBigUInt64LE(koffi.address(r), i * 8));
    try {
      const all = decodeStatsRecords(native, koffi.address(list), recs.length, { vcpu: true, balloon: true });
      expect(all).toEqual([
        { name: 'test', state: 'PAUSED', reason: 2, vcpus: 6, memoryKiB: 2097152 },
        { name: 'test', state: 'SHUTOFF', reason: 0 },
        { name: 'test', state: 'NOSTATE', reason: 0 },
      ]);
      // Groups not asked for are not decoded even when present.
      expect(decodeStatsRecords(native, koffi.address(list), 1)[0]).toEqual({ name: 'test', state: 'PAUSED', reason: 2 });
    } finally {
      fn.virDomainFree(dom);
      await callAsync<number>(fn.virConnectClose, conn);
    }
  });

  it('asks libvirt only for the groups it will read', () => {
    expect(statsMask()).toBe(1);
    expect(statsMask({ vcpu: true })).toBe(1 | 8);
    expect(statsMask({ balloon: true, vcpu: true })).toBe(1 | 4 | 8);
  });
});

describe('fetchDomainStats', () => {
  it('returns before the record list is freed, and back-to-back and concurrent calls on one connection stay exact', async () => {
    const native = await loadNative();
    const conn = await callAsync<Ptr>(native.fn.virConnectOpen, 'test:///default');
    try {
      const first = await fetchDomainStats(native, conn);
      expect(first?.map((d) => d.name)).toEqual(['test']);
      // Each call waits for the previous list's free (running in the background), so none sees a half-freed list.
      const again = await Promise.all(Array.from({ length: 8 }, () => fetchDomainStats(native, conn)));
      for (const r of again) expect(r).toEqual(first);
    } finally {
      await settleFrees(conn);
      await callAsync<number>(native.fn.virConnectClose, conn);
    }
  });
});
