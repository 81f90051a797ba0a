/** Text as people mean it: case, accents, surrounding and repeated spaces do not count (inbound messages, option titles). */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}
