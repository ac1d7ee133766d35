/** "1 chunk", "3 chunks"; `many` for words that do not just take an s ("1 copy", "2 copies"). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
