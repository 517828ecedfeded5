/**
 * A linear pre-scan of YAML text for how deeply it can nest, so a document nested deeper than the
 * limit is refused before the YAML parser (which recurses) is given it. The estimate is an upper
 * bound for ordinary documents: flow collections count each open bracket; block collections count
 * indentation (a child is indented more than its parent, except a sequence under a key, hence the
 * factor two) and the compact `- ` / `? ` entries that open a collection on the same line. Quoted
 * scalars, comments and block scalars (`|`, `>`) are skipped, so their text never counts.
 */
export function yamlNestingEstimate(text: string): number {
  let max = 0;
  let flow = 0;
  let blockScalarIndent = -1;
  const length = text.length;
  let i = 0;
  while (i < length) {
    // Start of a line: measure its indentation.
    let indent = 0;
    while (i < length && text[i] === ' ') {
      indent++;
      i++;
    }
    if (blockScalarIndent >= 0) {
      const blank = i >= length || text[i] === '\n' || text[i] === '\r';
      if (blank || indent > blockScalarIndent) {
        while (i < length && text[i] !== '\n') i++;
        i++;
        continue;
      }
      blockScalarIndent = -1;
    }
    let compact = 0;
    let lastSignificant = '';
    for (; i < length && text[i] !== '\n'; i++) {
      const c = text[i];
      if (flow === 0 && (c === '-' || c === '?') && (text[i + 1] === ' ' || text[i + 1] === '\n') && (lastSignificant === '' || lastSignificant === '-' || lastSignificant === '?')) {
        compact++;
        lastSignificant = c;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') continue;
      if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n')) {
        while (i < length && text[i] !== '\n') i++;
        break;
      }
      if (c === '"') {
        for (i++; i < length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      } else if (c === "'") {
        for (i++; i < length; i++) {
          if (text[i] === "'") {
            if (text[i + 1] === "'") i++;
            else break;
          }
        }
      } else if (c === '[' || c === '{') {
        flow++;
      } else if (c === ']' || c === '}') {
        if (flow > 0) flow--;
      } else if ((c === '|' || c === '>') && flow === 0 && (lastSignificant === ':' || lastSignificant === '-' || lastSignificant === '')) {
        blockScalarIndent = indent;
      }
      lastSignificant = c;
      const depth = flow + (flow > 0 ? 0 : 2 * indent) + compact + 2;
      if (depth > max) max = depth;
    }
    const depth = flow + compact + 2 * indent + 2;
    if (depth > max) max = depth;
    i++;
  }
  return max;
}
