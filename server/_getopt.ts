/**
 * GNU getopt_long as memcached's `main` calls it: clustered short flags,
 * values attached or in the next word, long names by any unique prefix, and
 * glibc's messages for what it cannot read. Words that are no flag are
 * skipped, as glibc permutes them to the end and memcached never reads them.
 *
 * @module
 */

/** A long option: its name, whether it takes a value, and the short flag it stands for. */
export interface LongOption {
  name: string;
  value: "none" | "required" | "optional";
  short: string;
}

/** One flag read: its short letter, value and place (word, and letter in a cluster), or glibc's complaint. */
export type Flag =
  | { short: string; value: string | undefined; word: number; letter?: number }
  | { error: string };

/**
 * Reads `args` as getopt_long does.
 *
 * @param shortopts The short flags, each followed by `:` when it takes a value.
 * @param longopts The long flags.
 * @returns The flags in order; reading stops after the first error, as memcached exits on it.
 */
export function getoptLong(args: string[], shortopts: string, longopts: LongOption[]): Flag[] {
  const flags: Flag[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    const start = i;
    if (word === "--") break;
    if (word.startsWith("--")) {
      const equals = word.indexOf("=");
      const name = word.slice(2, equals < 0 ? undefined : equals);
      const exact = longopts.find((o) => o.name === name);
      const matches = exact ? [exact] : longopts.filter((o) => o.name.startsWith(name));
      if (matches.length === 0) {
        flags.push({ error: `memcached: unrecognized option '${word}'` });
        return flags;
      }
      if (matches.length > 1) {
        const possibilities = matches.map((o) => `'--${o.name}'`).join(" ");
        flags.push({
          error: `memcached: option '${word}' is ambiguous; possibilities: ${possibilities}`,
        });
        return flags;
      }
      const option = matches[0];
      let value = equals < 0 ? undefined : word.slice(equals + 1);
      if (option.value === "none" && value !== undefined) {
        flags.push({ error: `memcached: option '--${option.name}' doesn't allow an argument` });
        return flags;
      }
      if (option.value === "required" && value === undefined) {
        if (i + 1 >= args.length) {
          flags.push({ error: `memcached: option '--${option.name}' requires an argument` });
          return flags;
        }
        value = args[++i];
      }
      flags.push({ short: option.short, value, word: start });
      continue;
    }
    if (!word.startsWith("-") || word === "-") continue;
    for (let j = 1; j < word.length; j++) {
      const letter = word[j];
      const at = letter === ":" ? -1 : shortopts.indexOf(letter);
      if (at < 0) {
        flags.push({ error: `memcached: invalid option -- '${letter}'` });
        return flags;
      }
      if (shortopts[at + 1] !== ":") {
        flags.push({ short: letter, value: undefined, word: start, letter: j });
        continue;
      }
      // A flag with a value takes the rest of the word, or else the next word, dash or not.
      let value = word.slice(j + 1);
      if (value === "") {
        if (i + 1 >= args.length) {
          flags.push({ error: `memcached: option requires an argument -- '${letter}'` });
          return flags;
        }
        value = args[++i];
      }
      flags.push({ short: letter, value, word: start, letter: j });
      break;
    }
  }
  return flags;
}
