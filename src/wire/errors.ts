/** Malformed wire data. `offset` is the byte position in the message where decoding failed. */
export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
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
