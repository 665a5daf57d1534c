// Stop strings, matched on the text as it streams. Providers take only a few stop strings each (OpenAI 4,
// Gemini 5), so the daemon ends the answer at every one of them itself; a simulated site uses the same
// matcher for the stops it honours, as a provider does upstream.
//
// The answer ends at the stop string completed first, as a model stops at the first one it generates
// (of two completed by the same character, the one that began earlier), so the result does not depend
// on how the text was cut into pieces. Each stop string is followed with Knuth-Morris-Pratt: one step
// per character, and at any moment the longest prefix of it that the text ends with is known, which is
// exactly what must be held back: text that could still begin a stop string, and nothing more.

/** One stop string and how much of it the text so far ends with. */
class Needle {
  /** fail[i]: the longest proper prefix of text[0..i] that is also its suffix. */
  private readonly fail: Int32Array;
  /** How many characters of the stop string the text ends with. */
  matched = 0;

  constructor(readonly text: string) {
    this.fail = new Int32Array(text.length);
    for (let i = 1, k = 0; i < text.length; i++) {
      while (k > 0 && text[i] !== text[k]) k = this.fail[k - 1];
      if (text[i] === text[k]) k++;
      this.fail[i] = k;
    }
  }

  /** The text goes on with `c`: true when it now ends with the whole stop string. */
  step(c: string): boolean {
    while (this.matched > 0 && this.text[this.matched] !== c) this.matched = this.fail[this.matched - 1];
    if (this.text[this.matched] === c) this.matched++;
    return this.matched === this.text.length;
  }
}

export class StopScanner {
  private readonly needles: Needle[];
  /** Text seen but not yet let through: it could be the start of a stop string. */
  private held = '';
  private done = false;

  constructor(stops: readonly string[]) {
    this.needles = stops.map((s) => new Needle(s));
  }

  /** A stop string was reached: the answer is over, and nothing more is let through. */
  get stopped(): boolean {
    return this.done;
  }

  /** The next piece of text: returns what can be shown now (held text included), up to a stop string's start. */
  push(piece: string): string {
    if (this.done) return '';
    const text = this.held + piece;
    for (let i = 0; i < piece.length; i++) {
      const end = this.held.length + i + 1;
      const cut = this.cutAt(piece[i], end);
      if (cut >= 0) {
        this.done = true;
        this.held = '';
        return text.slice(0, cut);
      }
    }
    let keep = 0;
    for (const n of this.needles) keep = Math.max(keep, n.matched);
    this.held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** The text ended without a stop string: what was held back is the end of the answer. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }

  /** Steps every stop string with the character ending at `end`; where the earliest completed one begins, or -1. */
  private cutAt(c: string, end: number): number {
    let cut = -1;
    for (const n of this.needles) {
      if (n.step(c) && (cut < 0 || end - n.text.length < cut)) cut = end - n.text.length;
    }
    return cut;
  }
}
