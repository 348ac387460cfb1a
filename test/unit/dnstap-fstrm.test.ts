// Frame Streams framing: control and data frame layout byte by byte (fstrm/control.h), and the
// incremental decoder on split input and on broken input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTROL_FRAME_LENGTH_MAX, ControlType, DNSTAP_CONTENT_TYPE, FrameDecoder, FstrmError, controlFrame, dataFrame, type Frame,
} from '../../src/monitor/dnstap-fstrm.js';

const u32 = (...v: number[]) => Buffer.concat(v.map((x) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(x);
  return b;
}));

test('READY with the dnstap content type: escape, length, type, one content-type field', () => {
  const ct = Buffer.from('protobuf:dnstap.Dnstap');
  assert.equal(ct.length, 22);
  const expected = Buffer.concat([u32(0, 4 + 8 + 22, 4, 1, 22), ct]);
  assert.deepEqual(controlFrame(ControlType.READY, [DNSTAP_CONTENT_TYPE]), expected);
  assert.equal(expected.toString('hex').slice(0, 40), '0000000000000022000000040000000100000016');
});

test('STOP and FINISH carry no fields; ACCEPT may list several content types', () => {
  assert.deepEqual(controlFrame(ControlType.STOP), u32(0, 4, 3));
  assert.deepEqual(controlFrame(ControlType.FINISH), u32(0, 4, 5));
  const two = controlFrame(ControlType.ACCEPT, ['a', 'bc']);
  assert.deepEqual(two, Buffer.concat([u32(0, 4 + 9 + 10, 1, 1, 1), Buffer.from('a'), u32(1, 2), Buffer.from('bc')]));
  assert.throws(() => controlFrame(ControlType.READY, ['x'.repeat(257)]), RangeError);
});

test('a data frame is a big-endian length and the payload; empty payloads are refused', () => {
  assert.deepEqual(dataFrame(Uint8Array.from([9, 8, 7])), Buffer.from([0, 0, 0, 3, 9, 8, 7]));
  assert.deepEqual(dataFrame(Buffer.alloc(300, 1)).subarray(0, 4), Buffer.from([0, 0, 1, 44]));
  assert.throws(() => dataFrame(new Uint8Array(0)), RangeError);
});

test('the decoder returns the same frames however the stream is split', () => {
  const stream = Buffer.concat([
    controlFrame(ControlType.START, [DNSTAP_CONTENT_TYPE]),
    dataFrame(Buffer.from('first')),
    dataFrame(Buffer.alloc(1000, 0xab)),
    controlFrame(ControlType.ACCEPT, ['x', DNSTAP_CONTENT_TYPE]),
    dataFrame(Buffer.from([0])),
    controlFrame(ControlType.STOP),
  ]);
  const describe = (fs: Frame[]) => fs.map((f) => (f.kind === 'data' ? `data:${f.payload.length}:${f.payload[0]}` : `ctl:${f.type}:${f.contentTypes.join(',')}`));
  const whole = describe(new FrameDecoder().push(stream));
  assert.deepEqual(whole, [`ctl:2:${DNSTAP_CONTENT_TYPE}`, 'data:5:102', 'data:1000:171', `ctl:1:x,${DNSTAP_CONTENT_TYPE}`, 'data:1:0', 'ctl:3:']);
  let splits = 0;
  for (const size of [1, 2, 3, 5, 7, 64, 999]) {
    const d = new FrameDecoder();
    const got: Frame[] = [];
    for (let i = 0; i < stream.length; i += size) got.push(...d.push(stream.subarray(i, i + size)));
    assert.deepEqual(describe(got), whole, `chunks of ${size}`);
    assert.equal(d.pending, 0);
    splits++;
  }
  assert.equal(splits, 7);
});

test('broken streams fail with the offset of the bad frame', () => {
  const ok = dataFrame(Buffer.from('abc'));
  const long = Buffer.concat([ok, u32(0, CONTROL_FRAME_LENGTH_MAX + 1)]);
  assert.throws(() => new FrameDecoder().push(long), (e: Error) => e instanceof FstrmError && /at byte 7: length 513/.test(e.message));
  const badField = Buffer.concat([u32(0, 12, ControlType.READY, 1, 100)]);
  assert.throws(() => new FrameDecoder().push(badField), /field length 100 runs past the frame/);
  assert.throws(() => new FrameDecoder(1024).push(u32(4096)), /length 4096 over the limit 1024/);
  const shortField = Buffer.concat([u32(0, 6, ControlType.READY), Buffer.from([0, 1])]);
  assert.throws(() => new FrameDecoder().push(shortField), /truncated field header/);
  // Unknown field types are skipped.
  const unknown = Buffer.concat([u32(0, 4 + 9, ControlType.ACCEPT, 7, 1), Buffer.from('z')]);
  assert.deepEqual(new FrameDecoder().push(unknown), [{ kind: 'control', type: ControlType.ACCEPT, contentTypes: [] }]);
});
