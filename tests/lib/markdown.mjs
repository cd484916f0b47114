// Reading Markdown pages and the shell commands they show, for the test
// that keeps the documentation true (tests/source/docs.test.mjs).
//
//   parseMarkdown(text)  fenced blocks (with the <!-- kind: arg --> comment
//                        right above each) and the prose around them
//   anchors(text)        the #anchors GitHub gives the page's headings
//   parseShell(text)     simple commands as lists of words, and comments

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const MARKER = /^<!--\s*(file|output|diagram)\b:?\s*(.*?)\s*-->$/;

// The fenced blocks of a page, and its prose with every block blanked out
// (so links and headings inside blocks are not taken for real ones).
export function parseMarkdown(text) {
  const lines = text.split('\n');
  const blocks = [];
  const prose = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (!open) {
      prose.push(lines[i]);
      continue;
    }
    const [, indent, fence, lang] = open;
    const marker = (lines[i - 1] || '').trim().match(MARKER);
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const t = lines[j].trim();
      if (t.startsWith(fence[0].repeat(fence.length)) && /^(`+|~+)$/.test(t)) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    blocks.push({ lang, line: i + 1, body: body.join('\n') + '\n', marker: marker && { kind: marker[1], arg: marker[2] } });
    for (let k = i; k <= j && k < lines.length; k++) prose.push('');
    i = j;
  }
  return { blocks, prose: prose.join('\n') };
}

// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
export function slug(heading) {
  return heading.trim().toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

export function anchors(text) {
  const seen = new Map();
  const found = new Set();
  for (const m of parseMarkdown(text).prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) || 0;
    seen.set(base, n + 1);
    found.add(n ? `${base}-${n}` : base);
  }
  return found;
}

// Splits shell text into simple commands, each a list of words with the
// quotes removed. A $(...) is parsed as a command of its own and stands in
// its word as "$(...)". Comments are kept apart, with their line and whether
// they fill their line.
export function parseShell(text) {
  const commands = [];
  const comments = [];
  let i = 0;
  let line = 1;
  const substitution = () => {
    i += 2;
    list(true);
    return '$(...)';
  };
  const word = (inParens) => {
    let w = '';
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '\\' && text[i + 1] === '\n') { i += 2; line++; continue; }
      if (/[\s;&|]/.test(c) || (c === ')' && inParens && depth === 0)) break;
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        const q = text.slice(i + 1, end < 0 ? text.length : end);
        line += q.split('\n').length - 1;
        w += q;
        i = end < 0 ? text.length : end + 1;
      } else if (c === '"') {
        for (i++; i < text.length && text[i] !== '"'; i++) {
          if (text[i] === '\\' && '"$`\\'.includes(text[i + 1])) w += text[++i];
          else if (text[i] === '$' && text[i + 1] === '(') { w += substitution(); i--; }
          else { if (text[i] === '\n') line++; w += text[i]; }
        }
        i++;
      } else if (c === '$' && text[i + 1] === '(') {
        w += substitution();
      } else {
        if (c === '\\') i++;
        if (c === '(') depth++;
        if (c === ')') depth--;
        w += text[i++];
      }
    }
    return w;
  };
  const list = (inParens) => {
    let words = [];
    let first = line;
    const end = () => {
      if (words.length) commands.push({ words, line: first, lastLine: line });
      words = [];
    };
    while (i < text.length) {
      const c = text[i];
      if (c === '\\' && text[i + 1] === '\n') { i += 2; line++; continue; }
      if (c === ' ' || c === '\t') { i++; continue; }
      if (c === '\n' || c === ';' || c === '&' || c === '|') {
        end();
        if (c === '\n') line++;
        i++;
        continue;
      }
      if (c === ')' && inParens) { i++; end(); return; }
      if (c === '#') {
        const stop = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
        const whole = text.slice(text.lastIndexOf('\n', i - 1) + 1, i).trim() === '';
        comments.push({ text: text.slice(i + 1, stop).trim(), line, whole });
        i = stop;
        continue;
      }
      if (!words.length) first = line;
      words.push(word(inParens));
    }
    end();
  };
  list(false);
  return { commands, comments };
}
