// A line diff (longest common subsequence after trimming the common ends): what changed between two line lists.

/** Lines `a[aStart, aStart+aCount)` are replaced by `b[bStart, bStart+bCount)`. */
export interface LineChange {
  aStart: number;
  aCount: number;
  bStart: number;
  bCount: number;
}

/** Above this many cells the LCS table is not built: the middle is reported as one change. */
const MAX_CELLS = 4_000_000;

/** The changes turning `a` into `b`, in order, each a maximal run of removed and/or added lines. */
export function diffLines(a: readonly string[], b: readonly string[]): LineChange[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  if (n === 0 && m === 0) {
    return [];
  }
  if (n === 0 || m === 0 || n * m > MAX_CELLS) {
    return [{ aStart: head, aCount: n, bStart: head, bCount: m }];
  }
  // lcs[i][j]: length of the LCS of a[head+i..] and b[head+j..] (flattened, (n+1) x (m+1)).
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[head + i] === b[head + j]
          ? lcs[(i + 1) * width + j + 1] + 1
          : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  const changes: LineChange[] = [];
  let i = 0;
  let j = 0;
  let open: LineChange | undefined;
  const close = () => {
    if (open) changes.push(open);
    open = undefined;
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] === b[head + j]) {
      close();
      i++;
      j++;
      continue;
    }
    open ??= { aStart: head + i, aCount: 0, bStart: head + j, bCount: 0 };
    // Prefer removals first inside a run, so a replaced block reads "old lines, then new lines".
    if (j >= m || (i < n && lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])) {
      open.aCount++;
      i++;
    } else {
      open.bCount++;
      j++;
    }
  }
  close();
  return changes;
}

/** Split text into lines; a final line break does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === "") {
    return [];
  }
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") {
    lines.pop();
  }
  return lines;
}
