/** Malformed wire data. `offset` is the byte position in the message where decoding failed. */
export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    // No stack trace: a flood of malformed packets throws one of these per packet, and capturing
    // the stack was most of the cost of rejecting one. The message and offset say what failed.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${message} at offset ${offset}`);
    Error.stackTraceLimit = limit;
    this.name = 'WireError';
  }
}

/** Malformed presentation (zone-file) text, with the position of the offending token. */
export class TextError extends Error {
  constructor(
    readonly reason: string,
    readonly line = 0,
    readonly col = 0,
    readonly file = '',
  ) {
    super(line ? `${file ? file + ':' : ''}${line}:${col}: ${reason}` : reason);
    this.name = 'TextError';
  }
}
