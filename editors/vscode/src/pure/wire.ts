// The LSP wire shapes the extension's pure code shares: positions and ranges as plain objects.

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}
