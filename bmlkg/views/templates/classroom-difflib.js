/* Python's difflib.get_close_matches (SequenceMatcher without a junk function), so the page suggests the
   same closest names the command line does. Strings are compared by code points, as in Python. */
function matchedChars(a, b) {
  const b2j = new Map();
  b.forEach((ch, j) => { if (!b2j.has(ch)) b2j.set(ch, []); b2j.get(ch).push(j); });
  const popular = new Set();
  if (b.length >= 200) {                       // difflib's autojunk
    const limit = Math.floor(b.length / 100) + 1;
    for (const [ch, list] of b2j) if (list.length > limit) popular.add(ch);
    for (const ch of popular) b2j.delete(ch);
  }
  function longest(alo, ahi, blo, bhi) {
    let besti = alo, bestj = blo, bestsize = 0;
    let j2len = new Map();
    for (let i = alo; i < ahi; i++) {
      const next = new Map();
      for (const j of b2j.get(a[i]) || []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) || 0) + 1;
        next.set(j, k);
        if (k > bestsize) { besti = i - k + 1; bestj = j - k + 1; bestsize = k; }
      }
      j2len = next;
    }
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) { besti--; bestj--; bestsize++; }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] === b[bestj + bestsize]) bestsize++;
    return [besti, bestj, bestsize];
  }
  let total = 0;
  const queue = [[0, a.length, 0, b.length]];
  while (queue.length) {
    const [alo, ahi, blo, bhi] = queue.pop();
    const [i, j, k] = longest(alo, ahi, blo, bhi);
    if (k) {
      total += k;
      if (alo < i && blo < j) queue.push([alo, i, blo, j]);
      if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
    }
  }
  return total;
}

function ratioOf(matches, length) {
  return length ? (2.0 * matches) / length : 1.0;
}

function quickRatio(a, b) {
  const avail = new Map();
  for (const ch of b) avail.set(ch, (avail.get(ch) || 0) + 1);
  let matches = 0;
  for (const ch of a) {
    const n = avail.get(ch) || 0;
    avail.set(ch, n - 1);
    if (n > 0) matches++;
  }
  return ratioOf(matches, a.length + b.length);
}

function closeMatches(word, possibilities, n = 3, cutoff = 0.6) {
  const b = Array.from(word);
  const found = [];
  for (const x of possibilities) {
    const a = Array.from(x);
    const length = a.length + b.length;
    if (ratioOf(Math.min(a.length, b.length), length) < cutoff) continue;
    if (quickRatio(a, b) < cutoff) continue;
    const score = ratioOf(matchedChars(a, b), length);
    if (score >= cutoff) found.push([score, x]);
  }
  found.sort((p, q) => (q[0] - p[0]) || -compareStrings(p[1], q[1]));   // heapq.nlargest on (score, x)
  return found.slice(0, n).map((p) => p[1]);
}
